/**
 * Gathering a Forge server's capabilities in one call, and caching them per client.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { ForgeError } from './forge-error.js';
import { ForgeCapabilities, type CapabilitySettings } from './forge-capabilities.js';
import type { ForgeCallOptions } from './forge-client-options.js';
import type { ForgeClient } from './forge-client.js';
import type { ForgeOptions } from './listing-schemas.js';

/** The client methods a probe uses; a {@link ForgeClient} has them all. */
export type CapabilitySource = Pick<
  ForgeClient,
  | 'name'
  | 'sdModels'
  | 'sdModules'
  | 'samplers'
  | 'schedulers'
  | 'upscalers'
  | 'latentUpscaleModes'
  | 'loras'
  | 'promptStyles'
  | 'scripts'
  | 'getOptions'
  | 'refreshCheckpoints'
  | 'refreshLoras'
>;

/**
 * Asks one server for everything the engine checks requests against, all requests in parallel.
 * @throws ForgeError from the first request that fails (the probe is all or nothing)
 */
export async function probeCapabilities(
  client: CapabilitySource,
  call?: ForgeCallOptions,
): Promise<ForgeCapabilities> {
  const [
    checkpoints,
    modules,
    samplers,
    schedulers,
    upscalers,
    latentUpscaleModes,
    loras,
    styles,
    scripts,
    options,
  ] = await Promise.all([
    client.sdModels(call),
    client.sdModules(call),
    client.samplers(call),
    client.schedulers(call),
    client.upscalers(call),
    client.latentUpscaleModes(call),
    client.loras(call),
    client.promptStyles(call),
    client.scripts(call),
    client.getOptions(call),
  ]);
  return new ForgeCapabilities({
    backend: client.name,
    probedAt: new Date(),
    checkpoints,
    modules,
    samplers,
    schedulers,
    upscalers,
    latentUpscaleModes,
    loras,
    styles,
    scripts,
    settings: settingsFrom(options),
  });
}

function settingsFrom(options: ForgeOptions): CapabilitySettings {
  return {
    currentCheckpoint: options.sd_model_checkpoint ?? null,
    additionalModules: options.forge_additional_modules ?? [],
    preset: options.forge_preset ?? null,
    unetStorageDtype: options.forge_unet_storage_dtype ?? null,
    clipSkip: options.CLIP_stop_at_last_layers ?? null,
    livePreviews: {
      enabled: options.live_previews_enable ?? null,
      everyNSteps: options.show_progress_every_n_steps ?? null,
      format: options.live_previews_image_format ?? null,
    },
  };
}

/** Options of {@link CapabilityCache}. */
export interface CapabilityCacheOptions {
  /**
   * How long a probe result is served before the next `get()` probes again.
   * @defaultValue `300_000` (5 minutes)
   */
  ttlMs?: number;
  /**
   * The clock, in milliseconds; tests pass a fake one.
   * @defaultValue `Date.now`
   */
  now?: () => number;
}

/** Defaults of every {@link CapabilityCacheOptions} field. */
export const DEFAULT_CAPABILITY_CACHE_OPTIONS = {
  ttlMs: 300_000,
  now: Date.now,
} as const satisfies Required<CapabilityCacheOptions>;

/** Options of {@link CapabilityCache.refresh}. */
export interface CapabilityRefreshOptions extends ForgeCallOptions {
  /** Ask Forge to rescan its checkpoint folder first (waits for a running generation). */
  refreshCheckpoints?: boolean;
  /** Ask Forge to rescan its LoRA folder first. */
  refreshLoras?: boolean;
}

const cacheOptionsSchema = z.strictObject(
  {
    ttlMs: z
      .int({ error: 'must be an integer number of milliseconds, 0 or more' })
      .min(0, { error: 'must be an integer number of milliseconds, 0 or more' })
      .optional(),
    now: z.custom<() => number>((value) => typeof value === 'function', {
      error: 'must be a function returning milliseconds',
    }),
  },
  { error: 'must be an object' },
);

/**
 * Caches one client's capabilities for `ttlMs`. Concurrent `get()` calls share one probe; a failed
 * probe is not cached, so the next `get()` tries again.
 *
 * @example
 * ```ts
 * const cache = new CapabilityCache(client);
 * const caps = await cache.get();
 * if (!caps.findSampler(request.sampler)) throw new Error('unknown sampler');
 * ```
 */
export class CapabilityCache {
  readonly #client: CapabilitySource;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #cached: { capabilities: ForgeCapabilities; expiresAt: number } | undefined;
  #inFlight: Promise<ForgeCapabilities> | undefined;
  /** Counts probes started, so that an older probe finishing late cannot overwrite a newer one. */
  #probesStarted = 0;

  /** @throws ConfigError (`FT_ERR_CONFIG_INVALID`) when an option breaks its rule */
  constructor(client: CapabilitySource, options: CapabilityCacheOptions = {}) {
    const merged = { ...DEFAULT_CAPABILITY_CACHE_OPTIONS, ...options };
    const result = cacheOptionsSchema.safeParse(merged);
    if (!result.success) {
      const [issue] = result.error.issues;
      const path = ['options', ...(issue?.path ?? []).map(String)].join('.');
      throw new ConfigError(`Invalid CapabilityCache options: ${path} ${issue?.message ?? ''}`, {
        cause: result.error,
      });
    }
    this.#client = client;
    this.#ttlMs = merged.ttlMs;
    this.#now = merged.now;
  }

  /**
   * The cached capabilities while fresh, otherwise the result of a probe (shared with any other
   * caller waiting for one). Aborting `signal` stops this caller's wait, not the shared probe.
   * @throws ForgeError from the probe, or `FT_ERR_FORGE_ABORTED` when `signal` fires
   */
  async get(options: Pick<ForgeCallOptions, 'signal'> = {}): Promise<ForgeCapabilities> {
    const cached = this.#cached;
    if (cached !== undefined && this.#now() < cached.expiresAt) return cached.capabilities;
    const probe = this.#inFlight ?? this.#startProbe();
    return this.#wait(probe, options.signal);
  }

  /**
   * Probes now, whatever the cache holds, optionally after asking Forge to rescan its checkpoint
   * and LoRA folders. Callers of `get()` from then on share this probe.
   * @throws ForgeError from a rescan or the probe
   */
  async refresh(options: CapabilityRefreshOptions = {}): Promise<ForgeCapabilities> {
    const { refreshCheckpoints = false, refreshLoras = false, ...call } = options;
    if (refreshCheckpoints) await this.#client.refreshCheckpoints(call);
    if (refreshLoras) await this.#client.refreshLoras(call);
    return this.#wait(this.#startProbe(), call.signal);
  }

  /** The last successful probe's result, fresh or not, without probing. */
  peek(): ForgeCapabilities | undefined {
    return this.#cached?.capabilities;
  }

  /** Forgets the cached result; the next `get()` probes. */
  invalidate(): void {
    this.#cached = undefined;
  }

  #startProbe(): Promise<ForgeCapabilities> {
    const probeNumber = ++this.#probesStarted;
    const isLatest = (): boolean => probeNumber === this.#probesStarted;
    const probe = probeCapabilities(this.#client).then(
      (capabilities) => {
        if (isLatest()) {
          this.#cached = { capabilities, expiresAt: this.#now() + this.#ttlMs };
          this.#inFlight = undefined;
        }
        return capabilities;
      },
      (error: unknown) => {
        if (isLatest()) this.#inFlight = undefined;
        throw error;
      },
    );
    // Every waiter may have given up through its signal; the failure must not go unhandled.
    probe.catch(() => undefined);
    this.#inFlight = probe;
    return probe;
  }

  async #wait(
    probe: Promise<ForgeCapabilities>,
    signal: AbortSignal | undefined,
  ): Promise<ForgeCapabilities> {
    if (signal === undefined) return probe;
    if (signal.aborted) throw this.#abortError(signal);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(this.#abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      probe.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  #abortError(signal: AbortSignal): ForgeError {
    return new ForgeError(
      'FT_ERR_FORGE_ABORTED',
      `Waiting for the capabilities of Forge backend "${this.#client.name}" was aborted by the caller`,
      {
        backend: this.#client.name,
        method: 'GET',
        endpoint: '(capability probe)',
        cause: signal.reason,
      },
    );
  }
}
