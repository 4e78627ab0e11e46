/**
 * `createEngine(config)`: the engine with its default parts (SQLite job store, local image
 * folder, worker-thread image pipeline) built from one plain configuration object, as read from a
 * YAML or JSON file.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ImagePipeline, type ImagePipelineMode } from '../images/image-pipeline.js';
import type { ImageKeyTemplates, RetentionPolicy } from '../images/image-store.js';
import { LocalImageStore } from '../images/local-image-store.js';
import type { Logger } from '../logger.js';
import type { BackendConfig } from './backend-pool.js';
import {
  backendListSchema,
  configError,
  engineTuningShape,
  type EngineTuning,
  type PromptExpander,
} from './engine-options.js';
import { Engine } from './engine.js';
import { createGenerationRequestSchema, type RequestLimits } from './generation-request.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { expandPrompt, type MissingPolicy } from '../wildcards/expander.js';
import {
  BUILT_IN_WILDCARD_ROOT,
  WildcardLibrary,
  type WildcardRoot,
} from '../wildcards/wildcard-library.js';

/** The engine's configuration: plain data, so it can live in a file. */
export interface EngineConfig extends EngineTuning {
  /** The Forge backends; at least one, each with a different name. */
  backends: BackendConfig[];
  /** The SQLite job database. */
  database?: {
    /** @defaultValue `'forge-tool.db'` */
    path?: string;
    /** @defaultValue `5_000` */
    busyTimeoutMs?: number;
  };
  /** The local image folder. */
  images?: {
    /** @defaultValue `'outputs'` */
    root?: string;
    layout?: ImageKeyTemplates;
    /** When images are removed; none keeps them forever. */
    retention?: RetentionPolicy;
  };
  /** The image pipeline. */
  pipeline?: {
    /** @defaultValue `'workers'` */
    mode?: ImagePipelineMode;
    /** @defaultValue `max(1, availableParallelism() - 1)` */
    threads?: number;
  };
  /** Request limits; see `DEFAULT_REQUEST_LIMITS`. */
  limits?: RequestLimits;
  /** Wildcards in prompts (docs/wildcards.md). */
  wildcards?: {
    /** Expand `__name__`, `{a|b}` and the rest; off sends prompts as written. @defaultValue `true` */
    enabled?: boolean;
    /** The user's wildcard folder, searched after the built-in samples. @defaultValue `'wildcards'` */
    directory?: string;
    /** Reload when files change. @defaultValue `true` */
    watch?: boolean;
    /** A wildcard that names nothing: an error, or left in the prompt. @defaultValue `'error'` */
    missing?: MissingPolicy;
  };
}

/** What cannot live in a file: code the host passes in. */
export interface EngineHooks {
  logger?: Logger;
  /** The wildcard engine's expansion. @defaultValue prompts are used as written */
  expandPrompt?: PromptExpander;
}

/** Defaults of the configuration's parts (the tuning has `DEFAULT_ENGINE_TUNING`). */
export const DEFAULT_ENGINE_CONFIG = {
  databasePath: 'forge-tool.db',
  imageRoot: 'outputs',
  pipelineMode: 'workers',
  wildcardDirectory: 'wildcards',
  /** With a retention policy and no interval set, it is applied hourly. */
  retentionIntervalMs: 3_600_000,
} as const;

const positiveInt = z.int({ error: 'must be a positive integer' }).positive({
  error: 'must be a positive integer',
});

const configSchema = z.strictObject(
  {
    ...engineTuningShape,
    backends: backendListSchema,
    database: z
      .strictObject({
        path: z.string().min(1, { error: 'must be a file path' }).optional(),
        busyTimeoutMs: positiveInt.optional(),
      })
      .optional(),
    images: z
      .strictObject({
        root: z.string().min(1, { error: 'must be a folder path' }).optional(),
        layout: z
          .record(z.string(), z.string(), { error: 'must be an object of templates' })
          .optional(),
        retention: z
          .strictObject({ maxAgeMs: positiveInt.optional(), maxTotalBytes: positiveInt.optional() })
          .optional(),
      })
      .optional(),
    pipeline: z
      .strictObject({
        mode: z.enum(['workers', 'inline'], { error: "must be 'workers' or 'inline'" }).optional(),
        threads: positiveInt.optional(),
      })
      .optional(),
    limits: z.record(z.string(), z.unknown(), { error: 'must be an object of limits' }).optional(),
    wildcards: z
      .strictObject({
        enabled: z.boolean({ error: 'must be true or false' }).optional(),
        directory: z.string().min(1, { error: 'must be a folder path' }).optional(),
        watch: z.boolean({ error: 'must be true or false' }).optional(),
        missing: z.enum(['error', 'keep'], { error: "must be 'error' or 'keep'" }).optional(),
      })
      .optional(),
  },
  { error: 'must be an object' },
);

/**
 * Validates the configuration, builds the store, image folder and pipeline, and starts the
 * engine.
 * @throws ConfigError (`FT_ERR_CONFIG_INVALID`) naming each bad option by its path
 *   (`config.backends.0.url must be an http(s) URL ...`)
 * @throws ForgeToolError (`FT_ERR_STORE_FAILURE`) when the database cannot be opened
 * @example
 * ```ts
 * const engine = await createEngine({
 *   backends: [{ name: 'gpu-1', url: 'http://127.0.0.1:7860' }],
 *   images: { root: 'outputs', retention: { maxAgeMs: 30 * 86_400_000 } },
 * });
 * ```
 */
export async function createEngine(config: unknown, hooks: EngineHooks = {}): Promise<Engine> {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) throw configError('config', parsed.error);
  const valid = config as EngineConfig;
  // Building the schema checks the limits now rather than at the first request.
  createGenerationRequestSchema(valid.limits ?? {});
  const { backends, database, images, pipeline, limits, wildcards, ...tuning } = valid;
  const imageStore = new LocalImageStore({
    root: images?.root ?? DEFAULT_ENGINE_CONFIG.imageRoot,
    ...(images?.layout === undefined ? {} : { layout: images.layout }),
    ...(images?.retention === undefined ? {} : { retention: images.retention }),
  });
  const imagePipeline = new ImagePipeline({
    mode: pipeline?.mode ?? DEFAULT_ENGINE_CONFIG.pipelineMode,
    ...(pipeline?.threads === undefined ? {} : { threads: pipeline.threads }),
    ...(hooks.logger === undefined ? {} : { logger: hooks.logger }),
  });
  const store = new SqliteJobStore({
    path: database?.path ?? DEFAULT_ENGINE_CONFIG.databasePath,
    ...(database?.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: database.busyTimeoutMs }),
  });
  const retentionIntervalMs =
    tuning.retentionIntervalMs ??
    (images?.retention === undefined ? 0 : DEFAULT_ENGINE_CONFIG.retentionIntervalMs);
  const library = hooks.expandPrompt === undefined ? await openWildcards(wildcards) : undefined;
  try {
    return await Engine.start({
      ...tuning,
      retentionIntervalMs,
      backends,
      store,
      images: imageStore,
      pipeline: imagePipeline,
      ...(limits === undefined ? {} : { limits }),
      ...(library === undefined ? {} : { expandPrompt: library.expand }),
      onClose: () => library?.library.close(),
      ...hooks,
    });
  } catch (error) {
    await Promise.allSettled([store.close(), imagePipeline.close(), library?.library.close()]);
    throw error;
  }
}

/**
 * Loads the built-in samples and the user's wildcard folder (when it exists) and returns the
 * expansion the engine calls once per prompt field.
 */
async function openWildcards(
  config: EngineConfig['wildcards'],
): Promise<{ library: WildcardLibrary; expand: PromptExpander } | undefined> {
  if (config?.enabled === false) return undefined;
  const directory = resolve(config?.directory ?? DEFAULT_ENGINE_CONFIG.wildcardDirectory);
  const roots: WildcardRoot[] = [BUILT_IN_WILDCARD_ROOT];
  if (existsSync(directory)) roots.push({ path: directory, name: 'user' });
  const library = new WildcardLibrary({ roots, watch: config?.watch ?? true });
  await library.load();
  const missing = config?.missing ?? 'error';
  const expand: PromptExpander = (template, { seed, index, maxDepth }) =>
    expandPrompt(library, template, { seed, index, maxDepth, missing });
  return { library, expand };
}
