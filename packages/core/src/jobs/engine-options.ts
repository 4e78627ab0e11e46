/**
 * Options of the engine: the parts it works with, and its tuning (limits, timeouts, intervals),
 * with one defaults object and one zod schema whose messages name the option path.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { ImagePipeline } from '../images/image-pipeline.js';
import type { ImageStore } from '../images/image-store.js';
import { silentLogger, type Logger } from '../logger.js';
import type { BackendConfig } from './backend-pool.js';
import type { RequestLimits } from './generation-request.js';
import type { JobStore } from './job-store.js';

/**
 * Expands wildcards in one prompt, deterministically for a given seed. The wildcard engine
 * provides it (`(template, options) => expandPrompt(library, template, options)`); without one,
 * prompts are used as written. `index` is the image's index in its batch; the engine expands a
 * job once, as image 0.
 */
export type PromptExpander = (
  template: string,
  options: { readonly seed: number; readonly index: number; readonly maxDepth: number },
) => { prompt: string; trace: unknown } | Promise<{ prompt: string; trace: unknown }>;

/** The engine's tuning: every field has a default. */
export interface EngineTuning {
  /** Attempts a job gets before it fails with `FT_ERR_JOB_ATTEMPTS_EXHAUSTED`. @defaultValue `3` */
  maxAttempts?: number;
  /** Most queued jobs in all (0 = no limit); beyond, `FT_ERR_QUEUE_FULL`. @defaultValue `0` */
  maxQueued?: number;
  /** Most queued jobs per owner (0 = no limit). @defaultValue `0` */
  maxQueuedPerOwner?: number;
  /** Most running jobs per owner (0 = no limit). @defaultValue `0` */
  maxRunningPerOwner?: number;
  /**
   * How often an owner's next job may be passed over for checkpoint affinity in a row
   * (0 = no affinity). @defaultValue `2`
   */
  maxPassOvers?: number;
  /** Time limit of one attempt when the request sets none. @defaultValue `600_000` */
  jobTimeoutMs?: number;
  /** How long a cancelled or timed-out generation may take to stop. @defaultValue `10_000` */
  interruptGraceMs?: number;
  /** First retry delay after a backend failure; doubles per attempt. @defaultValue `1_000` */
  retryBaseMs?: number;
  /** Longest retry delay. @defaultValue `30_000` */
  retryMaxMs?: number;
  /** How long `close()` lets running jobs finish before stopping them. @defaultValue `30_000` */
  closeGraceMs?: number;
  /** Pause between progress polls of a running job. @defaultValue `500` */
  progressIntervalMs?: number;
  /** Least time between two live previews of a job (0 = none). @defaultValue `2_000` */
  previewIntervalMs?: number;
  /** Pause between health checks of an idle backend. @defaultValue `10_000` */
  healthIntervalMs?: number;
  /** First pause before re-checking a backend that is down; doubles. @defaultValue `500` */
  backendRetryMinMs?: number;
  /** Longest pause between checks of a backend that is down. @defaultValue `30_000` */
  backendRetryMaxMs?: number;
  /** Deadline of capability, health and progress calls. @defaultValue `10_000` */
  probeTimeoutMs?: number;
  /** How long probed capabilities are trusted. @defaultValue `300_000` */
  capabilityTtlMs?: number;
  /** Events kept for `eventsSince`. @defaultValue `1_000` */
  replayBufferSize?: number;
  /**
   * How often the image store's retention policy is applied (0 = only when
   * `enforceRetention()` is called). @defaultValue `0`
   */
  retentionIntervalMs?: number;
  /**
   * Sends each backend one job ahead: when a job starts on a backend and the queue holds another
   * that backend may run, that job's request goes out too, and waits in Forge's own queue. The
   * backend then starts it the moment the current one ends instead of idling for the HTTP round
   * trip and the engine's dispatch (a few ms per job, which adds up with short generations).
   *
   * The price: the job sent ahead is picked (and marked running) one generation early, so a job
   * submitted meanwhile, even one of higher priority or of an owner with less running, cannot
   * take its place; its time limit starts only when it becomes the backend's active job. A
   * cancelled job that was sent ahead has its request aborted, but Forge may still run it (it
   * does not notice the closed connection), which delays that backend's next job by its length.
   * @defaultValue `false`
   */
  prefetch?: boolean;
}

/** Defaults of every {@link EngineTuning} field. */
export const DEFAULT_ENGINE_TUNING = {
  maxAttempts: 3,
  maxQueued: 0,
  maxQueuedPerOwner: 0,
  maxRunningPerOwner: 0,
  maxPassOvers: 2,
  jobTimeoutMs: 600_000,
  interruptGraceMs: 10_000,
  retryBaseMs: 1_000,
  retryMaxMs: 30_000,
  closeGraceMs: 30_000,
  progressIntervalMs: 500,
  previewIntervalMs: 2_000,
  healthIntervalMs: 10_000,
  backendRetryMinMs: 500,
  backendRetryMaxMs: 30_000,
  probeTimeoutMs: 10_000,
  capabilityTtlMs: 300_000,
  replayBufferSize: 1_000,
  retentionIntervalMs: 0,
  prefetch: false,
} as const satisfies Required<EngineTuning>;

/** Everything the {@link Engine} is built from. */
export interface EngineOptions extends EngineTuning {
  /** The Forge backends; at least one. */
  backends: readonly BackendConfig[];
  /** Where job records live; the engine closes it. */
  store: JobStore;
  /** Where results are processed; the engine closes it. */
  pipeline: ImagePipeline;
  /** Where images are kept. */
  images: ImageStore;
  /** Request limits. @defaultValue `DEFAULT_REQUEST_LIMITS` */
  limits?: RequestLimits;
  /** Wildcard expansion. @defaultValue prompts are used as written */
  expandPrompt?: PromptExpander;
  /** @defaultValue a logger that drops everything */
  logger?: Logger;
  /** Source of random seeds, 0 <= x < 1. @defaultValue `Math.random` */
  random?: () => number;
  /** Called last when the engine closes, to release what the host built for it. */
  onClose?: () => void | Promise<void>;
}

/** {@link EngineOptions} with every default applied, frozen. */
export type ResolvedEngineOptions = Readonly<
  Required<EngineTuning> &
    Pick<EngineOptions, 'backends' | 'store' | 'pipeline' | 'images'> & {
      limits: RequestLimits;
      expandPrompt: PromptExpander;
      logger: Logger;
      random: () => number;
      onClose: () => void | Promise<void>;
    }
>;

/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2_147_483_647;

const count = (min: number) =>
  z
    .int({ error: `must be an integer of ${min} or more` })
    .min(min, { error: `must be an integer of ${min} or more` });

const duration = (min: number) =>
  z
    .int({ error: `must be an integer number of milliseconds from ${min} to ${MAX_TIMER_MS}` })
    .min(min, { error: `must be an integer number of milliseconds from ${min} to ${MAX_TIMER_MS}` })
    .max(MAX_TIMER_MS, {
      error: `must be an integer number of milliseconds from ${min} to ${MAX_TIMER_MS}`,
    });

/** The tuning's schema; also part of the `createEngine` configuration. */
export const engineTuningShape = {
  maxAttempts: z
    .int({ error: 'must be an integer from 1 to 100' })
    .min(1, { error: 'must be an integer from 1 to 100' })
    .max(100, { error: 'must be an integer from 1 to 100' })
    .optional(),
  maxQueued: count(0).optional(),
  maxQueuedPerOwner: count(0).optional(),
  maxRunningPerOwner: count(0).optional(),
  maxPassOvers: count(0).optional(),
  jobTimeoutMs: duration(1).optional(),
  interruptGraceMs: duration(0).optional(),
  retryBaseMs: duration(0).optional(),
  retryMaxMs: duration(0).optional(),
  closeGraceMs: duration(0).optional(),
  progressIntervalMs: duration(1).optional(),
  previewIntervalMs: duration(0).optional(),
  healthIntervalMs: duration(1).optional(),
  backendRetryMinMs: duration(1).optional(),
  backendRetryMaxMs: duration(1).optional(),
  probeTimeoutMs: duration(1).optional(),
  capabilityTtlMs: duration(0).optional(),
  replayBufferSize: count(0).optional(),
  retentionIntervalMs: duration(0).optional(),
  prefetch: z.boolean({ error: 'must be true or false' }).optional(),
};

/** One backend's schema. */
export const backendConfigSchema = z.strictObject(
  {
    name: z
      .string({ error: 'must be a string' })
      .trim()
      .min(1, { error: 'must not be empty' })
      .max(100, { error: 'must be at most 100 characters' }),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://gpu-1:7860' }),
    auth: z
      .strictObject(
        { username: z.string().min(1), password: z.string() },
        { error: 'must be an object {username, password}' },
      )
      .optional(),
    tags: z.array(z.string().min(1), { error: 'must be a list of tag names' }).optional(),
    weight: z.number({ error: 'must be a positive number' }).positive().optional(),
  },
  { error: 'must be an object {name, url, auth?, tags?, weight?}' },
);

/** The list of backends' schema: at least one, unique names. */
export const backendListSchema = z
  .array(backendConfigSchema, { error: 'must be a list of backends' })
  .min(1, { error: 'must list at least one Forge backend' })
  .refine((list) => new Set(list.map((backend) => backend.name)).size === list.length, {
    error: 'must give each backend a different name',
  });

const tuningSchema = z.looseObject({ ...engineTuningShape, backends: backendListSchema });

/**
 * Validates the options and applies defaults.
 * @throws ConfigError (`FT_ERR_CONFIG_INVALID`) naming each bad option and its rule
 */
export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  const result = tuningSchema.safeParse(options);
  if (!result.success) throw configError('options', result.error);
  const tuning = Object.fromEntries(
    Object.keys(DEFAULT_ENGINE_TUNING).map((key) => [
      key,
      options[key as keyof EngineTuning] ??
        DEFAULT_ENGINE_TUNING[key as keyof typeof DEFAULT_ENGINE_TUNING],
    ]),
  ) as Required<EngineTuning>;
  return Object.freeze({
    ...tuning,
    backends: options.backends,
    store: options.store,
    pipeline: options.pipeline,
    images: options.images,
    limits: options.limits ?? {},
    expandPrompt: options.expandPrompt ?? ((template) => ({ prompt: template, trace: null })),
    logger: options.logger ?? silentLogger,
    random: options.random ?? Math.random,
    onClose: options.onClose ?? (() => {}),
  });
}

/** A ConfigError listing every issue as `path rule`. */
export function configError(root: string, error: z.ZodError): ConfigError {
  const lines = error.issues.map((issue) => {
    const path = [root, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${path}.${key} is not a known option`).join('; ');
    }
    return `${path} ${issue.message}`;
  });
  return new ConfigError(`Invalid engine configuration: ${lines.join('; ')}`, { cause: error });
}
