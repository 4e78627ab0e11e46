/**
 * The in-process engine: the {@link GenerationService} over the job store, the fair queue, the
 * backend pool, the job runner and the image pipeline.
 *
 * How a job flows: `submit` validates, checks capabilities, resolves the seed, expands wildcards
 * and stores the job as queued; the dispatcher gives each free backend the job the fair queue
 * picks for it; the runner calls Forge, processes and stores the images, and completes the job.
 * A failed attempt goes back to the queue after a backoff (backend failures) or fails the job
 * (requests Forge rejects). Every state change is stored first and announced second.
 */
import { ForgeToolError } from '../errors.js';
import type { Logger } from '../logger.js';
import { BackendPool, type BackendView } from './backend-pool.js';
import { checkAgainstCapabilities } from './capability-check.js';
import { EngineEvents, type EngineEvent, type EngineEventListener } from './engine-events.js';
import {
  resolveEngineOptions,
  type EngineOptions,
  type ResolvedEngineOptions,
} from './engine-options.js';
import { FairQueue } from './fair-queue.js';
import type {
  GenerationService,
  MergedCapabilities,
  QueueEstimate,
  SubmitOutcome,
} from './generation-service.js';
import { parseGenerationRequest, type GenerationRequest } from './generation-request.js';
import { findJobImage } from './image-references.js';
import { jobNotFound } from './job-store-rules.js';
import { checkBackendTags, checkImageReferences, resolveRequest } from './job-admission.js';
import { newJobId } from './job-id.js';
import { cancelledError } from './job-errors.js';
import { JobRunner, type AttemptOutcome } from './job-runner.js';
import type { JobListQuery, JobPage } from './job-store.js';
import { JobDispatcher, type AheadSlot, type AttemptLane } from './job-dispatcher.js';
import type { JobImage, JobRecord } from './job.js';
import { mergeCapabilities } from './merged-capabilities.js';
import { QueueEntries, ownerKey, type EngineQueueEntry } from './queue-entries.js';
import { estimateCompletionMs } from './queue-estimate.js';
import { recoverJobs } from './recover-jobs.js';
import { applyRetention } from './retention.js';
import { RetryDelays } from './retry-delays.js';
import { RunningAttempt } from './running-attempt.js';

/**
 * The in-process {@link GenerationService}. Create it with {@link Engine.start} (or
 * `createEngine(config)`, which also builds the store, image store and pipeline).
 *
 * @example
 * ```ts
 * const engine = await Engine.start({ backends, store, pipeline, images });
 * const { job, position } = await engine.submit({ prompt: 'a red fox', owner: { id: 'u1' } });
 * engine.subscribe((event) => console.log(event.type, event.sequence));
 * await engine.close();
 * ```
 */
export class Engine implements GenerationService {
  readonly #options: ResolvedEngineOptions;
  readonly #logger: Logger;
  readonly #events: EngineEvents;
  readonly #pool: BackendPool;
  readonly #queue: FairQueue<EngineQueueEntry>;
  readonly #entries = new QueueEntries();
  readonly #runner: JobRunner;
  readonly #running = new Map<string, RunningAttempt>();
  /** Jobs picked whose `markRunning` is in flight, and whether a cancel arrived meanwhile. */
  readonly #starting = new Map<string, { cancelled: boolean }>();
  readonly #delayed: RetryDelays;
  readonly #dispatcher: JobDispatcher;
  /** Per started job, settles once its request went out to Forge (or it ended without one). */
  readonly #sent = new Map<string, Promise<void>>();
  readonly #attempts = new Set<Promise<void>>();
  /** Running average of the work units of queued jobs, for time estimates. */
  #meanUnits = 0;
  #closing: Promise<void> | undefined;
  #retentionTimer: NodeJS.Timeout | undefined;

  private constructor(options: ResolvedEngineOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#events = new EngineEvents({
      replayBufferSize: options.replayBufferSize,
      logger: options.logger,
    });
    this.#pool = new BackendPool({
      backends: options.backends,
      events: this.#events,
      healthIntervalMs: options.healthIntervalMs,
      retryMinMs: options.backendRetryMinMs,
      retryMaxMs: options.backendRetryMaxMs,
      capabilityTtlMs: options.capabilityTtlMs,
      probeTimeoutMs: options.probeTimeoutMs,
      generationTimeoutMs: options.jobTimeoutMs + options.interruptGraceMs + 1_000,
      onAvailable: () => this.#dispatch(),
      logger: options.logger,
    });
    this.#queue = new FairQueue({
      maxPassOvers: options.maxPassOvers,
      maxRunningPerOwner: options.maxRunningPerOwner,
    });
    this.#runner = new JobRunner(
      { ...options, pool: this.#pool, events: this.#events },
      {
        progressIntervalMs: options.progressIntervalMs,
        previewIntervalMs: options.previewIntervalMs,
        probeTimeoutMs: options.probeTimeoutMs,
        defaultTimeoutMs: options.jobTimeoutMs,
        interruptGraceMs: options.interruptGraceMs,
        retryBaseMs: options.retryBaseMs,
        retryMaxMs: options.retryMaxMs,
      },
    );
    this.#delayed = new RetryDelays((entry) => {
      this.#enqueue(entry);
      this.#dispatch();
    });
    this.#dispatcher = new JobDispatcher({
      pool: this.#pool,
      queue: this.#queue,
      entries: this.#entries,
      prefetch: options.prefetch,
      start: (entry, backend, slot, after) =>
        this.#track(this.#startAttempt(entry, backend, slot, after)),
      sentOf: (jobId) => this.#sent.get(jobId),
    });
  }

  /**
   * Builds an engine, probes its backends, recovers the jobs a previous run left (running ones
   * go back to the queue or fail; queued ones keep their order) and starts dispatching.
   * @throws ConfigError (`FT_ERR_CONFIG_INVALID`) naming each bad option
   * @throws ForgeToolError (`FT_ERR_STORE_FAILURE`) when the store cannot be read
   */
  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(resolveEngineOptions(options));
    try {
      await engine.#pool.start();
      await engine.#recover();
    } catch (error) {
      await engine.#pool.close(true);
      throw error;
    }
    engine.#dispatch();
    engine.#scheduleRetention();
    return engine;
  }

  /** The event bus (also reachable through {@link subscribe}). */
  get events(): EngineEvents {
    return this.#events;
  }

  /** {@inheritDoc GenerationService.submit} */
  async submit(input: unknown): Promise<SubmitOutcome> {
    this.#assertOpen();
    const request = parseGenerationRequest(input, this.#options.limits);
    // A repeat is answered before any check that depends on the moment (backends, limits).
    const earlier = await this.#findRepeat(request);
    if (earlier !== undefined)
      return { job: earlier, created: false, ...this.#estimateOf(earlier) };
    const capabilities = this.#pool.capabilities();
    if (capabilities.length === 0) throw this.#noBackendYet();
    checkAgainstCapabilities(request, capabilities);
    checkBackendTags(request, this.#pool.list());
    await checkImageReferences(request, this.#options.store);
    this.#checkLimits(ownerKey(request.owner));
    const resolved = await resolveRequest(request, this.#options);
    const { job, created } = await this.#options.store.insert({
      id: newJobId(),
      kind: request.kind,
      priority: request.priority,
      owner: request.owner,
      request,
      resolved,
      idempotencyKey: request.idempotency_key ?? null,
      maxAttempts: this.#options.maxAttempts,
    });
    if (!created) return { job, created, ...this.#estimateOf(job) };
    this.#enqueue(this.#entries.entryOf(job, capabilities));
    const estimate = this.#estimateOf(job);
    this.#events.emit('jobQueued', { job, position: estimate.position });
    this.#dispatch();
    return { job, created, ...estimate };
  }

  async #findRepeat(request: GenerationRequest): Promise<JobRecord | undefined> {
    const key = request.idempotency_key;
    if (key === undefined) return undefined;
    return this.#options.store.findByIdempotencyKey(request.owner, key);
  }

  /** {@inheritDoc GenerationService.get} */
  async get(id: string): Promise<JobRecord | undefined> {
    return this.#running.get(id)?.job ?? this.#options.store.get(id);
  }

  /** {@inheritDoc GenerationService.list} */
  async list(query: JobListQuery): Promise<JobPage> {
    return this.#options.store.list(query);
  }

  /** {@inheritDoc GenerationService.cancel} */
  async cancel(id: string): Promise<JobRecord> {
    const attempt = this.#running.get(id);
    const starting = this.#starting.get(id);
    if (starting !== undefined) starting.cancelled = true;
    const stopped = attempt?.stop('cancel', this.#options.interruptGraceMs) ?? false;
    const removed = this.#queue.remove(id) ?? this.#delayed.take(id);
    try {
      const job = await this.#options.store.cancel(id, cancelledError(attempt?.backend ?? null));
      this.#events.emit('jobCancelled', { job });
      return job;
    } catch (error) {
      const latest = stopped ? await this.#options.store.get(id) : undefined;
      // This call stopped the attempt, and the runner recorded the cancellation first.
      if (latest?.status === 'cancelled') return latest;
      if (removed !== undefined && isCode(error, 'FT_ERR_STORE_FAILURE')) this.#enqueue(removed);
      throw error;
    }
  }

  /** {@inheritDoc GenerationService.subscribe} */
  subscribe(listener: EngineEventListener): () => void {
    return this.#events.subscribe(listener);
  }

  /** {@inheritDoc GenerationService.eventsSince} */
  async eventsSince(sequence: number): Promise<{ events: EngineEvent[]; complete: boolean }> {
    return this.#events.since(sequence);
  }

  /** {@inheritDoc GenerationService.getImage} */
  async getImage(jobId: string, index: number): Promise<Buffer> {
    const image = await this.#storedImage(jobId, index);
    return this.#options.images.get(image.key);
  }

  /** {@inheritDoc GenerationService.getThumbnail} */
  async getThumbnail(jobId: string, index: number): Promise<Buffer> {
    const image = await this.#storedImage(jobId, index);
    if (image.thumbnailKey === null) {
      throw new ForgeToolError(
        'FT_ERR_IMAGE_NOT_FOUND',
        `Image ${index} of job ${jobId} has no thumbnail`,
      );
    }
    return this.#options.images.get(image.thumbnailKey);
  }

  /** {@inheritDoc GenerationService.getPreview} */
  async getPreview(jobId: string): Promise<Buffer | null> {
    return this.#running.get(jobId)?.preview ?? null;
  }

  /** {@inheritDoc GenerationService.estimate} */
  async estimate(jobId: string): Promise<QueueEstimate> {
    const job = await this.get(jobId);
    if (job === undefined) throw jobNotFound(jobId);
    return { jobId, status: job.status, ...this.#estimateOf(job) };
  }

  /** {@inheritDoc GenerationService.capabilities} */
  async capabilities(): Promise<MergedCapabilities> {
    return mergeCapabilities(this.#pool.list(), (name) => this.#pool.capabilitiesOf(name));
  }

  /** {@inheritDoc GenerationService.backends} */
  async backends(): Promise<BackendView[]> {
    return this.#pool.list();
  }

  /**
   * Applies the image store's retention policy now and marks the removed images on their jobs.
   * @returns how many stored objects (images and thumbnails) were removed
   */
  async enforceRetention(now = Date.now()): Promise<number> {
    return applyRetention(this.#options.images, this.#options.store, now);
  }

  /**
   * Stops taking jobs (`FT_ERR_QUEUE_CLOSED`), lets running attempts finish for up to
   * `closeGraceMs`, then interrupts the rest (they go back to the queue for the next start), and
   * closes the backends, the pipeline and the store. Idempotent.
   */
  async close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    clearTimeout(this.#retentionTimer);
    this.#delayed.clear();
    const attempts = Promise.allSettled([...this.#attempts]);
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, this.#options.closeGraceMs);
    });
    await Promise.race([attempts, grace]);
    clearTimeout(graceTimer);
    for (const attempt of this.#running.values()) {
      attempt.stop('shutdown', this.#options.interruptGraceMs);
    }
    await Promise.allSettled([...this.#attempts]);
    await this.#pool.close(true);
    await this.#options.pipeline.close();
    await this.#options.store.close();
    await this.#options.onClose();
    this.#events.clear();
  }

  async #recover(): Promise<void> {
    const { requeued, failed } = await recoverJobs(this.#options.store, this.#events);
    const capabilities = this.#pool.capabilities();
    for (const job of await this.#options.store.listQueued()) {
      this.#enqueue(this.#entries.entryOf(job, capabilities));
    }
    this.#logger.info({ requeued, failed, queued: this.#queue.size }, 'Recovered the job queue');
  }

  #scheduleRetention(): void {
    const intervalMs = this.#options.retentionIntervalMs;
    if (intervalMs === 0 || this.#closing !== undefined) return;
    this.#retentionTimer = setTimeout(() => {
      this.enforceRetention()
        .catch((error: unknown) => this.#logger.error({ err: error }, 'Retention failed'))
        .finally(() => this.#scheduleRetention());
    }, intervalMs);
    this.#retentionTimer.unref();
  }

  #assertOpen(): void {
    if (this.#closing === undefined) return;
    throw new ForgeToolError(
      'FT_ERR_QUEUE_CLOSED',
      'The engine is shutting down and takes no new jobs',
    );
  }

  #noBackendYet(): ForgeToolError {
    const states = this.#pool
      .list()
      .map((backend) => `${backend.name}: ${backend.lastError?.message ?? backend.status}`);
    return new ForgeToolError(
      'FT_ERR_QUEUE_NO_BACKEND',
      `No backend has answered yet, so the request cannot be checked (${states.join('; ')})`,
    );
  }

  #checkLimits(owner: string): void {
    const { maxQueued, maxQueuedPerOwner } = this.#options;
    const queued = this.#queue.size + this.#delayed.size;
    if (maxQueued > 0 && queued >= maxQueued) {
      throw new ForgeToolError(
        'FT_ERR_QUEUE_FULL',
        `The queue is full (${maxQueued} jobs); try again later`,
      );
    }
    if (maxQueuedPerOwner > 0 && this.#queue.queuedFor(owner) >= maxQueuedPerOwner) {
      throw new ForgeToolError(
        'FT_ERR_QUEUE_FULL',
        `Owner ${owner} already has ${maxQueuedPerOwner} queued jobs, the most allowed; try again when some have started`,
      );
    }
  }

  #enqueue(entry: EngineQueueEntry): void {
    this.#queue.add(entry);
    this.#meanUnits =
      this.#meanUnits === 0 ? entry.units : this.#meanUnits * 0.9 + entry.units * 0.1;
  }

  /** Gives every free backend the job the fair queue picks for it (and busy ones one ahead). */
  #dispatch(): void {
    if (this.#closing !== undefined || this.#queue.size === 0) return;
    this.#dispatcher.dispatch();
  }

  #track(work: Promise<void>): void {
    this.#attempts.add(work);
    void work.finally(() => this.#attempts.delete(work));
  }

  async #startAttempt(
    entry: EngineQueueEntry,
    backend: string,
    slot?: AheadSlot,
    after: Promise<void> = Promise.resolve(),
  ): Promise<void> {
    let signalSent = (): void => undefined;
    const sent = new Promise<void>((resolve) => {
      signalSent = resolve;
    });
    this.#sent.set(entry.id, sent);
    try {
      await this.#runAttempt(entry, backend, { slot, after, signalSent });
    } finally {
      signalSent();
      if (this.#sent.get(entry.id) === sent) this.#sent.delete(entry.id);
    }
  }

  async #runAttempt(entry: EngineQueueEntry, backend: string, lane: AttemptLane): Promise<void> {
    const starting = { cancelled: false };
    this.#starting.set(entry.id, starting);
    let job: JobRecord;
    try {
      job = await this.#options.store.markRunning(entry.id, backend);
    } catch (error) {
      this.#notStarted(entry, backend, lane.slot, error);
      return;
    } finally {
      this.#starting.delete(entry.id);
    }
    const client = this.#pool.client(backend);
    const attempt = new RunningAttempt(job, entry, backend, client, Date.now(), {
      waiting: lane.slot !== undefined && !lane.slot.promoted,
      after: lane.after,
      onSent: lane.signalSent,
    });
    if (lane.slot !== undefined) lane.slot.attempt = attempt;
    this.#running.set(job.id, attempt);
    this.#events.emit('jobStarted', { job, backend });
    if (starting.cancelled) attempt.stop('cancel', this.#options.interruptGraceMs);
    if (lane.slot?.abandoned != null) attempt.abandon(lane.slot.abandoned);
    let promoted: AheadSlot | undefined;
    try {
      const outcome = await this.#runner.run(attempt, (report) => {
        promoted = this.#dispatcher.released(backend, lane.slot, report);
      });
      this.#settled(entry, outcome);
    } catch (error) {
      this.#logger.error({ jobId: job.id, err: error }, 'A job attempt ended unexpectedly');
    } finally {
      this.#running.delete(job.id);
      this.#queue.settle(entry.owner);
      if (promoted !== undefined) this.#dispatcher.abandonIfDown(backend, promoted);
      this.#dispatch();
    }
  }

  /** `markRunning` refused: cancelled meanwhile (fine), or the store failed (try again later). */
  #notStarted(
    entry: EngineQueueEntry,
    backend: string,
    slot: AheadSlot | undefined,
    error: unknown,
  ): void {
    const promoted = this.#dispatcher.released(backend, slot, {});
    if (promoted !== undefined) this.#dispatcher.abandonIfDown(backend, promoted);
    this.#queue.settle(entry.owner);
    if (isCode(error, 'FT_ERR_STORE_FAILURE')) {
      this.#logger.error({ jobId: entry.id, err: error }, 'Could not start a job; retrying later');
      this.#delayed.schedule(entry, this.#options.retryBaseMs);
    }
    this.#dispatch();
  }

  #settled(entry: EngineQueueEntry, outcome: AttemptOutcome): void {
    if (outcome.kind !== 'requeued' || this.#closing !== undefined) return;
    this.#delayed.schedule({ ...entry, avoidBackend: outcome.avoidBackend }, outcome.retryInMs);
  }

  #estimateOf(job: JobRecord): { position: number | null; etaMs: number | null } {
    const backends = this.#pool.list();
    const running = [...this.#running.values()];
    const base = { backends, running, meanUnits: this.#meanUnits, now: Date.now() };
    if (job.status === 'running') {
      const attempt = this.#running.get(job.id);
      const units = attempt?.entry.units ?? 0;
      return {
        position: null,
        etaMs: estimateCompletionMs({ ...base, units, attempt: attempt ?? null }),
      };
    }
    if (job.status !== 'queued') return { position: null, etaMs: null };
    const entry = this.#queue.get(job.id);
    const delayed = this.#delayed.get(job.id);
    const position = entry !== undefined ? (this.#queue.position(job.id) ?? 0) : this.#queue.size;
    const units = entry?.units ?? delayed?.entry.units ?? this.#meanUnits;
    const waitMs = delayed === undefined ? 0 : Math.max(0, delayed.dueAt - base.now);
    const etaMs = estimateCompletionMs({ ...base, units, position });
    return { position, etaMs: etaMs === null ? null : etaMs + waitMs };
  }

  async #storedImage(jobId: string, index: number): Promise<JobImage> {
    if ((await this.#options.store.get(jobId)) === undefined) throw jobNotFound(jobId);
    return findJobImage(this.#options.store, jobId, index);
  }
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof ForgeToolError && error.code === code;
}
