/**
 * The image pipeline: turns a Forge response body into images ready to store, with the CPU work
 * (JSON parsing, base64, PNG checks, hashes, previews) on a pool of worker threads so the event
 * loop stays responsive while large results come in. See image-worker.ts for the steps.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

import { Piscina } from 'piscina';

import { ConfigError, ForgeToolError, type ErrorCode } from '../errors.js';
import type { ForgeGenerationInfo } from '../forge/generation-schemas.js';
import { silentLogger, type Logger } from '../logger.js';
import {
  ownedBytes,
  runImageTask,
  type ImageTask,
  type ImageTaskFailure,
  type ImageTaskImage,
  type ImageTaskOutcome,
} from './image-worker.js';
import { DEFAULT_THUMBNAIL_SIDE_PX } from './thumbnail.js';

/** Where the work runs: a worker-thread pool, or the calling thread (same code, no pool). */
export type ImagePipelineMode = 'workers' | 'inline';

/** Options of {@link ImagePipeline}. */
export interface ImagePipelineOptions {
  /**
   * `'workers'` runs tasks on a piscina pool; `'inline'` runs them on the calling thread, which
   * blocks its event loop for the length of each task (for comparison and quick tests).
   * @defaultValue 'workers'
   */
  mode?: ImagePipelineMode;
  /**
   * Most worker threads at once.
   * @defaultValue `max(1, os.availableParallelism() - 1)`
   */
  threads?: number;
  /**
   * How long an idle worker thread lives before it exits, in milliseconds.
   * @defaultValue 30_000
   */
  idleTimeoutMs?: number;
  /**
   * Longest side of each preview, in pixels.
   * @defaultValue 256
   */
  thumbnailSidePx?: number;
  /**
   * In `'workers'` mode, results smaller than this many bytes are processed on the calling thread:
   * for a small body the hand-off to a worker costs more than the work (about 1.7 ms of CPU
   * against well under a millisecond), and the event loop is held only briefly. 0 sends every
   * result to the pool.
   * @defaultValue 65_536
   */
  inlineBelowBytes?: number;
  /**
   * Where pool-level failures are reported (a worker that dies between tasks).
   * @defaultValue silentLogger
   */
  logger?: Logger;
}

/** Per-call options of {@link ImagePipeline}. */
export interface ProcessResultOptions {
  /** The job the result belongs to: written into every image as a PNG text chunk. */
  jobId: string;
}

/** One image ready to store. */
export interface ProcessedImage {
  /** The PNG as Forge made it plus a `forge-tool-job` text chunk: the bytes to store. */
  readonly png: Buffer;
  /** A PNG preview whose longest side is at most `thumbnailSidePx`. */
  readonly thumbnail: Buffer;
  /** Lower-case hex sha256 of `png`. */
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
  /** The image's `parameters` text (Forge's infotext for it when the PNG has none), or null. */
  readonly infotext: string | null;
  /** The seed it was made with (`info.all_seeds`, grid rule applied); null for upscales. */
  readonly seed: number | null;
  /** Whether this is the grid Forge prepends to a saved batch (never asked for by the engine). */
  readonly grid: boolean;
}

/** A processed txt2img or img2img result. */
export interface ProcessedGeneration {
  /** The images in Forge's order. */
  readonly images: readonly ProcessedImage[];
  /** The parsed and checked `info` JSON. */
  readonly info: ForgeGenerationInfo;
  /** Forge's echo of the request with its defaults applied. */
  readonly parameters: Record<string, unknown>;
}

/** A processed extras (upscale) result. */
export interface ProcessedUpscale {
  readonly image: ProcessedImage;
  /** Forge's HTML summary of what was done. */
  readonly htmlInfo: string;
}

/** Counters of a pipeline, to see where its work ran. */
export interface ImagePipelineStats {
  readonly mode: ImagePipelineMode;
  /** Worker threads alive now (0 inline, and after idle threads exited). */
  readonly liveThreads: number;
  /** Thread ids of the live worker threads (the main thread's is 0). */
  readonly threadIds: readonly number[];
  /** Tasks the worker threads have completed. */
  readonly completedInWorkers: number;
  /** Tasks run on the calling thread. */
  readonly completedInline: number;
}

/**
 * A result could not be processed. `code` says why: `FT_ERR_FORGE_BAD_RESPONSE` (the body is not
 * what Forge returns: not JSON, wrong shape, an image that is not base64), `FT_ERR_PNG_INVALID`
 * (an image is not a well-formed PNG) or `FT_ERR_IMAGE_PROCESSING` (anything else, including a
 * worker thread that died).
 */
export class ImageProcessingError extends ForgeToolError {
  /** The job whose result failed. */
  readonly jobId: string;
  /** Which image failed, or null when the response as a whole did. */
  readonly imageIndex: number | null;

  constructor(code: ErrorCode, message: string, details: ImageProcessingErrorDetails) {
    super(code, message, { cause: details.cause });
    this.jobId = details.jobId;
    this.imageIndex = details.imageIndex;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), jobId: this.jobId, imageIndex: this.imageIndex };
  }
}

/** Details of an {@link ImageProcessingError}. */
export interface ImageProcessingErrorDetails {
  jobId: string;
  imageIndex: number | null;
  cause?: unknown;
}

/** The defaults of {@link ImagePipelineOptions}. */
export const DEFAULT_IMAGE_PIPELINE_OPTIONS = {
  mode: 'workers',
  idleTimeoutMs: 30_000,
  thumbnailSidePx: DEFAULT_THUMBNAIL_SIDE_PX,
  inlineBelowBytes: 65_536,
} as const satisfies Omit<Required<ImagePipelineOptions>, 'threads' | 'logger'>;

const MAX_THREADS = 256;
const MAX_THUMBNAIL_SIDE_PX = 4_096;
const MAX_JOB_ID_LENGTH = 200;

/**
 * Processes Forge results on a worker-thread pool. Each body is moved to the worker, not
 * copied: after a call, the `body` passed in may be empty (its ArrayBuffer detached) when it
 * owned its whole ArrayBuffer, as bodies from `ForgeClient.txt2imgRaw` do.
 *
 * @example
 * ```ts
 * const pipeline = new ImagePipeline();
 * const body = await forge.txt2imgRaw({ prompt: 'a lighthouse', batch_size: 4 });
 * const { images, info } = await pipeline.processGeneration(body, { jobId: job.id });
 * await pipeline.close();
 * ```
 */
export class ImagePipeline {
  readonly #mode: ImagePipelineMode;
  readonly #thumbnailSidePx: number;
  readonly #inlineBelowBytes: number;
  readonly #pool: Piscina<ImageTask, ImageTaskOutcome> | null;
  #completedInline = 0;
  #closed = false;

  /** @throws ConfigError (`FT_ERR_CONFIG_INVALID`) naming each bad option and its rule */
  constructor(options: ImagePipelineOptions = {}) {
    const resolved = resolveOptions(options);
    this.#mode = resolved.mode;
    this.#thumbnailSidePx = resolved.thumbnailSidePx;
    this.#inlineBelowBytes = resolved.inlineBelowBytes;
    this.#pool = resolved.mode === 'workers' ? startPool(resolved) : null;
  }

  /** Where the work runs. */
  get mode(): ImagePipelineMode {
    return this.#mode;
  }

  /**
   * Processes a txt2img or img2img response body (as from `ForgeClient.txt2imgRaw`).
   *
   * @throws {ImageProcessingError} with `FT_ERR_FORGE_BAD_RESPONSE`, `FT_ERR_PNG_INVALID` or
   *   `FT_ERR_IMAGE_PROCESSING`; its message names the job and, where one failed, the image
   */
  async processGeneration(
    body: Uint8Array,
    options: ProcessResultOptions,
  ): Promise<ProcessedGeneration> {
    const outcome = await this.#run('generation', body, options);
    if (outcome.op !== 'generation') throw wrongOutcome(options.jobId);
    return {
      images: outcome.images.map(toProcessedImage),
      info: outcome.info,
      parameters: outcome.parameters,
    };
  }

  /**
   * Processes an extras response body (as from `ForgeClient.extraSingleImageRaw`).
   *
   * @throws {ImageProcessingError} as {@link ImagePipeline.processGeneration}
   */
  async processUpscale(body: Uint8Array, options: ProcessResultOptions): Promise<ProcessedUpscale> {
    const outcome = await this.#run('upscale', body, options);
    if (outcome.op !== 'upscale') throw wrongOutcome(options.jobId);
    return { image: toProcessedImage(outcome.image), htmlInfo: outcome.htmlInfo };
  }

  /** Where the work ran so far. */
  stats(): ImagePipelineStats {
    const threads = this.#pool?.threads ?? [];
    return {
      mode: this.#mode,
      liveThreads: threads.length,
      threadIds: threads.map((thread) => thread.threadId),
      completedInWorkers: this.#pool?.completed ?? 0,
      completedInline: this.#completedInline,
    };
  }

  /** Waits for the tasks in flight, then stops the worker threads; later calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool?.close();
  }

  async #run(
    op: ImageTask['op'],
    body: Uint8Array,
    { jobId }: ProcessResultOptions,
  ): Promise<Exclude<ImageTaskOutcome, { ok: false }>> {
    this.#assertUsable(body, jobId);
    const outcome = await this.#dispatch({
      op,
      body,
      jobId,
      thumbnailSidePx: this.#thumbnailSidePx,
    });
    if (!outcome.ok) throw fromFailure(outcome.failure, jobId);
    return outcome;
  }

  async #dispatch(task: ImageTask): Promise<ImageTaskOutcome> {
    if (this.#pool === null || task.body.byteLength < this.#inlineBelowBytes) {
      this.#completedInline += 1;
      return runImageTask(task);
    }
    const body = ownedBytes(task.body);
    try {
      return await this.#pool.run(
        { ...task, body },
        { transferList: [body.buffer as ArrayBuffer] },
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ImageProcessingError(
        'FT_ERR_IMAGE_PROCESSING',
        `the image worker failed on the result of job ${task.jobId}: ${reason}`,
        { jobId: task.jobId, imageIndex: null, cause: error },
      );
    }
  }

  #assertUsable(body: Uint8Array, jobId: string): void {
    const problem = this.#closed ? 'the image pipeline is closed' : argumentProblem(body, jobId);
    if (problem === undefined) return;
    throw new ImageProcessingError('FT_ERR_IMAGE_PROCESSING', problem, {
      jobId: typeof jobId === 'string' ? jobId : '',
      imageIndex: null,
    });
  }
}

function argumentProblem(body: unknown, jobId: unknown): string | undefined {
  if (!(body instanceof Uint8Array))
    return `body must be a Uint8Array or Buffer, got ${typeof body}`;
  return jobIdProblem(jobId);
}

function jobIdProblem(jobId: unknown): string | undefined {
  const valid =
    typeof jobId === 'string' &&
    jobId.length >= 1 &&
    jobId.length <= MAX_JOB_ID_LENGTH &&
    /^[\x20-\x7e]+$/.test(jobId);
  return valid
    ? undefined
    : `jobId must be 1-${MAX_JOB_ID_LENGTH} printable ASCII characters, got ${JSON.stringify(jobId)}`;
}

function toProcessedImage(image: ImageTaskImage): ProcessedImage {
  return { ...image, png: asBuffer(image.png), thumbnail: asBuffer(image.thumbnail) };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function fromFailure(failure: ImageTaskFailure, jobId: string): ImageProcessingError {
  return new ImageProcessingError(failure.code, failure.message, {
    jobId,
    imageIndex: failure.imageIndex,
  });
}

function wrongOutcome(jobId: string): ImageProcessingError {
  return new ImageProcessingError(
    'FT_ERR_IMAGE_PROCESSING',
    `the image worker answered the task of job ${jobId} with a result of the other kind`,
    { jobId, imageIndex: null },
  );
}

interface ResolvedOptions {
  mode: ImagePipelineMode;
  threads: number;
  idleTimeoutMs: number;
  thumbnailSidePx: number;
  inlineBelowBytes: number;
  logger: Logger;
}

function resolveOptions(options: ImagePipelineOptions): ResolvedOptions {
  const resolved = {
    ...DEFAULT_IMAGE_PIPELINE_OPTIONS,
    threads: Math.max(1, availableParallelism() - 1),
    logger: silentLogger,
    ...options,
  };
  const problems = [
    ['workers', 'inline'].includes(resolved.mode)
      ? undefined
      : `options.mode must be 'workers' or 'inline', got ${String(resolved.mode)}`,
    integerProblem('threads', resolved.threads, 1, MAX_THREADS),
    integerProblem('idleTimeoutMs', resolved.idleTimeoutMs, 0, 2 ** 31 - 1),
    integerProblem('thumbnailSidePx', resolved.thumbnailSidePx, 1, MAX_THUMBNAIL_SIDE_PX),
    integerProblem('inlineBelowBytes', resolved.inlineBelowBytes, 0, 2 ** 31 - 1),
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0)
    throw new ConfigError(`invalid image pipeline options: ${problems.join('; ')}`);
  return resolved;
}

function integerProblem(
  name: string,
  value: unknown,
  min: number,
  max: number,
): string | undefined {
  if (Number.isInteger(value) && (value as number) >= min && (value as number) <= max)
    return undefined;
  return `options.${name} must be an integer from ${min} to ${max}, got ${String(value)}`;
}

function startPool(options: ResolvedOptions): Piscina<ImageTask, ImageTaskOutcome> {
  const pool = new Piscina<ImageTask, ImageTaskOutcome>({
    ...workerEntry(),
    name: 'default',
    minThreads: 0,
    maxThreads: options.threads,
    idleTimeout: options.idleTimeoutMs,
  });
  const logger = options.logger.child({ component: 'image-pipeline' });
  // Without a listener, an 'error' from the pool (a worker dying between tasks) would end the
  // process; tasks in flight are failed by piscina itself.
  pool.on('error', (error: unknown) => {
    logger.error({ err: error }, 'an image worker thread failed outside a task');
  });
  return pool;
}

/**
 * The compiled worker sits next to this module as `image-worker.js` and inherits the process's
 * Node flags. When this module runs from its TypeScript source (tests, tsx), the worker is the
 * `.ts` file and needs tsx loaded.
 */
function workerEntry(): { filename: string; execArgv?: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './image-worker.ts' : './image-worker.js', import.meta.url);
  const filename = fileURLToPath(url);
  return fromSource ? { filename, execArgv: ['--import', 'tsx'] } : { filename };
}
