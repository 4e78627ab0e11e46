/**
 * The Forge backends the engine runs jobs on: one client and capability cache each, whether each
 * is up, busy or down, which checkpoint each holds, and how fast each has been.
 *
 * ```
 *   starting --probe ok--> up <--------------------+
 *      |                   |  failure reported,     | check ok (capabilities probed again)
 *      +--probe failed---> +--health check failed--> down --check failed--> down (backoff x2)
 * ```
 *
 * A backend that is up and idle is checked every `healthIntervalMs`; a busy one is watched by the
 * job's own progress polling and HTTP call. A backend that is down is checked after 0.5 s, 1 s,
 * 2 s, ... up to `retryMaxMs`.
 */
import { ForgeClient } from '../forge/forge-client.js';
import type { ForgeAuth } from '../forge/forge-client-options.js';
import { CapabilityCache } from '../forge/capability-probe.js';
import type { ForgeCapabilities } from '../forge/forge-capabilities.js';
import { silentLogger, type Logger } from '../logger.js';
import type { EngineEvents } from './engine-events.js';
import { errorOf } from './job-errors.js';
import type { JobError } from './job.js';

/** One backend in the configuration. */
export interface BackendConfig {
  /** Unique name, used in job records, events and logs. */
  readonly name: string;
  /** Forge's base URL, e.g. `http://127.0.0.1:7860`. */
  readonly url: string;
  /** HTTP Basic credentials for a Forge started with `--api-auth`. */
  readonly auth?: ForgeAuth;
  /** Free-form labels a request can require with `backend_tags`. */
  readonly tags?: readonly string[];
  /**
   * When several backends are free, higher weights get the next job first.
   * @defaultValue `1`
   */
  readonly weight?: number;
}

/** Where a backend is in its life. */
export type BackendStatus = 'starting' | 'up' | 'down' | 'closed';

/** What the engine reads about one backend. */
export interface BackendView {
  readonly name: string;
  readonly url: string;
  readonly tags: ReadonlySet<string>;
  readonly weight: number;
  readonly status: BackendStatus;
  /** The job running on it, if any. */
  readonly runningJob: string | null;
  /** The checkpoint (model name) it holds, as far as the engine knows. */
  readonly loadedCheckpoint: string | null;
  /** The checkpoint its global options select: what a job naming none runs on. */
  readonly defaultCheckpoint: string | null;
  /** Exponentially averaged milliseconds per work unit (one step of one image), once measured. */
  readonly msPerUnit: number | null;
  /** Jobs it finished (completed or not) since start. */
  readonly jobsRun: number;
  /** Checkpoint switches the engine caused on it. */
  readonly checkpointSwitches: number;
  /** The last failure that took it down. */
  readonly lastError: JobError | null;
}

/** How an attempt on a backend went, for its bookkeeping. */
export interface BackendRunReport {
  /** The checkpoint key the job ran on (null: the backend default; absent: Forge was not reached). */
  readonly checkpoint?: string | null;
  /** Work units of the job and how long it took, when it ran to its end. */
  readonly units?: number;
  readonly durationMs?: number;
}

/** Options of {@link BackendPool}. */
export interface BackendPoolOptions {
  readonly backends: readonly BackendConfig[];
  /** Where `backendUp` and `backendDown` go. */
  readonly events: EngineEvents;
  /**
   * Pause between health checks of an idle backend that is up.
   * @defaultValue `10_000`
   */
  readonly healthIntervalMs?: number;
  /**
   * First pause before checking a backend that went down; doubles up to `retryMaxMs`.
   * @defaultValue `500`
   */
  readonly retryMinMs?: number;
  /** @defaultValue `30_000` */
  readonly retryMaxMs?: number;
  /**
   * How long probed capabilities are trusted.
   * @defaultValue `300_000`
   */
  readonly capabilityTtlMs?: number;
  /** Deadline of list and progress calls. @defaultValue `10_000` */
  readonly probeTimeoutMs?: number;
  /** Deadline of a generation call when the job gives none. @defaultValue `600_000` */
  readonly generationTimeoutMs?: number;
  /** Called whenever a backend may take a job (it came up or was released). */
  readonly onAvailable?: () => void;
  /** @defaultValue a logger that drops everything */
  readonly logger?: Logger;
}

/** Weight of the newest measurement in the speed average. */
const SPEED_SMOOTHING = 0.3;

interface BackendState {
  readonly config: BackendConfig;
  readonly client: ForgeClient;
  readonly capabilities: CapabilityCache;
  readonly tags: ReadonlySet<string>;
  status: BackendStatus;
  runningJob: string | null;
  loadedCheckpoint: string | null;
  defaultCheckpoint: string | null;
  msPerUnit: number | null;
  jobsRun: number;
  checkpointSwitches: number;
  failures: number;
  lastError: JobError | null;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The set of backends. `start()` probes them all; from then on each is watched on its own timer.
 *
 * @example
 * ```ts
 * const pool = new BackendPool({ backends: [{ name: 'gpu-1', url: 'http://gpu-1:7860' }], events });
 * await pool.start();
 * const [free] = pool.freeBackends();
 * ```
 */
export class BackendPool {
  readonly #states = new Map<string, BackendState>();
  readonly #events: EngineEvents;
  readonly #healthIntervalMs: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #onAvailable: () => void;
  readonly #logger: Logger;
  #closed = false;

  /** @throws RangeError for an empty list or a duplicate backend name */
  constructor(options: BackendPoolOptions) {
    if (options.backends.length === 0) {
      throw new RangeError('options.backends must list at least one Forge backend');
    }
    this.#events = options.events;
    this.#healthIntervalMs = options.healthIntervalMs ?? 10_000;
    this.#retryMinMs = options.retryMinMs ?? 500;
    this.#retryMaxMs = options.retryMaxMs ?? 30_000;
    this.#onAvailable = options.onAvailable ?? (() => undefined);
    this.#logger = options.logger ?? silentLogger;
    for (const config of options.backends) {
      if (this.#states.has(config.name)) {
        throw new RangeError(`options.backends lists the name "${config.name}" twice`);
      }
      this.#states.set(config.name, this.#createState(config, options));
    }
  }

  /** Probes every backend once; those that fail are retried in the background. */
  async start(): Promise<void> {
    await Promise.all([...this.#states.values()].map((state) => this.#check(state)));
  }

  /** Every backend, in configuration order. */
  list(): BackendView[] {
    return [...this.#states.values()].map(viewOf);
  }

  /** One backend, or undefined. */
  get(name: string): BackendView | undefined {
    const state = this.#states.get(name);
    return state === undefined ? undefined : viewOf(state);
  }

  /** The client of a backend. @throws RangeError for an unknown name */
  client(name: string): ForgeClient {
    return this.#state(name).client;
  }

  /** Backends that are up and idle, highest weight first. */
  freeBackends(): BackendView[] {
    return [...this.#states.values()]
      .filter((state) => state.status === 'up' && state.runningJob === null)
      .sort((a, b) => (b.config.weight ?? 1) - (a.config.weight ?? 1))
      .map(viewOf);
  }

  /** How many backends are up (busy or not). */
  upCount(): number {
    return [...this.#states.values()].filter((state) => state.status === 'up').length;
  }

  /** The last probed capabilities of each backend that answered at least once. */
  capabilities(): ForgeCapabilities[] {
    return [...this.#states.values()]
      .map((state) => state.capabilities.peek())
      .filter((caps): caps is ForgeCapabilities => caps !== undefined);
  }

  /** The last probed capabilities of one backend. */
  capabilitiesOf(name: string): ForgeCapabilities | undefined {
    return this.#states.get(name)?.capabilities.peek();
  }

  /** Marks a free backend busy with a job. @throws RangeError when it is not up and free */
  acquire(name: string, jobId: string): void {
    const state = this.#state(name);
    if (state.status !== 'up' || state.runningJob !== null) {
      throw new RangeError(`Backend "${name}" is not free (${state.status}, ${state.runningJob})`);
    }
    state.runningJob = jobId;
  }

  /**
   * Frees a backend after an attempt and records what it ran. `nextJobId` names the job that was
   * sent ahead to it and now runs there (engine option `prefetch`); the backend then stays busy.
   */
  release(name: string, report: BackendRunReport, nextJobId: string | null = null): void {
    const state = this.#states.get(name);
    if (state === undefined) return;
    state.runningJob = nextJobId;
    const ran =
      report.checkpoint === undefined ? null : (report.checkpoint ?? state.defaultCheckpoint);
    if (ran !== null && ran !== state.loadedCheckpoint) {
      state.checkpointSwitches += 1;
      state.loadedCheckpoint = ran;
    }
    state.jobsRun += 1;
    if (report.units !== undefined && report.durationMs !== undefined && report.units > 0) {
      const sample = report.durationMs / report.units;
      state.msPerUnit =
        state.msPerUnit === null
          ? sample
          : state.msPerUnit + SPEED_SMOOTHING * (sample - state.msPerUnit);
    }
    if (state.status === 'up') this.#onAvailable();
  }

  /** Takes a backend out of rotation after a failure; it is checked again with backoff. */
  markDown(name: string, error: JobError): void {
    const state = this.#states.get(name);
    if (state === undefined || state.status === 'closed') return;
    state.lastError = error;
    if (state.status === 'down') return;
    this.#goDown(state, error);
  }

  /** Checks every backend now (e.g. after a configuration change on the Forge side). */
  async refresh(): Promise<void> {
    await Promise.all([...this.#states.values()].map((state) => this.#check(state)));
  }

  /** Stops the checks and closes every client; `destroy` ends requests in flight at once. */
  async close(destroy = false): Promise<void> {
    this.#closed = true;
    for (const state of this.#states.values()) {
      clearTimeout(state.timer);
      state.status = 'closed';
    }
    await Promise.all(
      [...this.#states.values()].map((state) =>
        destroy ? state.client.destroy() : state.client.close(),
      ),
    );
  }

  #createState(config: BackendConfig, options: BackendPoolOptions): BackendState {
    const client = new ForgeClient({
      baseUrl: config.url,
      name: config.name,
      ...(config.auth === undefined ? {} : { auth: config.auth }),
      probeTimeoutMs: options.probeTimeoutMs ?? 10_000,
      generationTimeoutMs: options.generationTimeoutMs ?? 600_000,
      logger: options.logger ?? silentLogger,
    });
    return {
      config,
      client,
      capabilities: new CapabilityCache(client, { ttlMs: options.capabilityTtlMs ?? 300_000 }),
      tags: new Set(config.tags ?? []),
      status: 'starting',
      runningJob: null,
      loadedCheckpoint: null,
      defaultCheckpoint: null,
      msPerUnit: null,
      jobsRun: 0,
      checkpointSwitches: 0,
      failures: 0,
      lastError: null,
      timer: undefined,
    };
  }

  #state(name: string): BackendState {
    const state = this.#states.get(name);
    if (state === undefined) throw new RangeError(`No backend is named "${name}"`);
    return state;
  }

  /**
   * One health check. A backend that is not up must answer a full capability probe before it
   * takes jobs again (its checkpoints or samplers may have changed while it was away).
   */
  async #check(state: BackendState): Promise<void> {
    if (this.#closed || state.status === 'closed') return;
    const wasUp = state.status === 'up';
    try {
      if (wasUp) await state.client.progress({ skipCurrentImage: true });
      else await this.#probe(state);
    } catch (error) {
      if (this.#closed) return;
      const reason = errorOf(error);
      state.lastError = reason;
      if (state.status === 'down') this.#scheduleRetry(state);
      else this.#goDown(state, reason);
      return;
    }
    if (!wasUp && !this.#closed) this.#goUp(state);
    else this.#schedule(state, this.#healthIntervalMs);
  }

  async #probe(state: BackendState): Promise<void> {
    const caps = await state.capabilities.refresh();
    const current = caps.settings.currentCheckpoint;
    const key = current === null ? null : checkpointKey(caps, current);
    state.defaultCheckpoint = key;
    // Forge loads the selected checkpoint at start; after an outage nothing else is known.
    state.loadedCheckpoint = key;
  }

  #goUp(state: BackendState): void {
    state.status = 'up';
    state.failures = 0;
    this.#logger.info({ backend: state.config.name }, 'Forge backend is up');
    this.#events.emit('backendUp', { backend: state.config.name });
    this.#schedule(state, this.#healthIntervalMs);
    this.#onAvailable();
  }

  #goDown(state: BackendState, error: JobError): void {
    state.status = 'down';
    state.failures = 0;
    const retryInMs = this.#scheduleRetry(state);
    this.#logger.warn({ backend: state.config.name, error }, 'Forge backend is down');
    this.#events.emit('backendDown', { backend: state.config.name, error, retryInMs });
  }

  #scheduleRetry(state: BackendState): number {
    const delay = Math.min(this.#retryMaxMs, this.#retryMinMs * 2 ** state.failures);
    state.failures += 1;
    this.#schedule(state, delay);
    return delay;
  }

  #schedule(state: BackendState, delayMs: number): void {
    clearTimeout(state.timer);
    if (this.#closed) return;
    state.timer = setTimeout(() => {
      // A busy backend is watched by its running job; check again later.
      if (state.status === 'up' && state.runningJob !== null) {
        this.#schedule(state, this.#healthIntervalMs);
        return;
      }
      void this.#check(state);
    }, delayMs);
    state.timer.unref();
  }
}

/**
 * The stable key of a checkpoint on a backend: Forge's `model_name`, which (unlike the title)
 * does not change when Forge first hashes the file.
 */
export function checkpointKey(capabilities: ForgeCapabilities, name: string): string {
  return capabilities.findCheckpoint(name)?.model_name ?? name;
}

function viewOf(state: BackendState): BackendView {
  return {
    name: state.config.name,
    url: state.config.url,
    tags: state.tags,
    weight: state.config.weight ?? 1,
    status: state.status,
    runningJob: state.runningJob,
    loadedCheckpoint: state.loadedCheckpoint,
    defaultCheckpoint: state.defaultCheckpoint,
    msPerUnit: state.msPerUnit,
    jobsRun: state.jobsRun,
    checkpointSwitches: state.checkpointSwitches,
    lastError: state.lastError,
  };
}
