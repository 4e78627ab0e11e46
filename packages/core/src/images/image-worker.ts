/**
 * The CPU work on one Forge result, run in a piscina worker thread (or inline on the calling
 * thread, for comparison and for tests). Everything that costs milliseconds per image happens
 * here, so the event loop only moves bytes:
 *
 * 1. decode the response body (UTF-8) and parse its JSON;
 * 2. check its shape with the client's schemas (generation-schemas.ts), which also decodes the
 *    base64 images and parses and checks the `info` JSON string;
 * 3. per image: check the PNG (signature, IHDR, every chunk's CRC), read its `parameters`
 *    infotext, add a text chunk naming the job, hash the tagged bytes (sha256) and make a
 *    preview (decode, area-average downscale, PNG encode).
 *
 * Errors do not cross the thread boundary as thrown objects (structured cloning keeps an
 * Error's message but drops its `code`), so the task returns a failure record instead and the
 * pipeline turns it back into a coded error.
 */
import { createHash } from 'node:crypto';

import { move, transferableSymbol, valueSymbol } from 'piscina';

import { ForgeToolError, type ErrorCode } from '../errors.js';
import { formatPath } from '../forge/forge-error.js';
import {
  ExtraSingleImageResultSchema,
  GenerationResultSchema,
  type ForgeGenerationInfo,
} from '../forge/generation-schemas.js';
import { decodePng } from './png-decode.js';
import { readPngParameters, readPngSize, writePngText } from './png-text.js';
import { makeThumbnail } from './thumbnail.js';

/** The PNG text keyword under which every stored image names the job that made it. */
export const JOB_ID_KEYWORD = 'forge-tool-job';

/** What both kinds of task carry. */
interface ImageTaskBase {
  /** The 2xx response body exactly as Forge sent it. */
  readonly body: Uint8Array;
  /** The job the result belongs to; written into every image. */
  readonly jobId: string;
  /** Longest side of the previews, in pixels. */
  readonly thumbnailSidePx: number;
}

/** One result to process: a txt2img/img2img body, or an extras (upscale) body. */
export type ImageTask =
  (ImageTaskBase & { readonly op: 'generation' }) | (ImageTaskBase & { readonly op: 'upscale' });

/** One processed image as it crosses the thread boundary. */
export interface ImageTaskImage {
  /** The PNG with the job's text chunk added: the bytes to store. */
  readonly png: Uint8Array;
  /** The preview, a PNG. */
  readonly thumbnail: Uint8Array;
  /** Lower-case hex sha256 of `png`. */
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
  /** The image's `parameters` text, or Forge's infotext for it when the PNG has none. */
  readonly infotext: string | null;
  /** The seed it was made with, when the response says. */
  readonly seed: number | null;
  /** Whether this is the grid Forge prepends to a saved batch. */
  readonly grid: boolean;
}

/** A failure, as plain data that survives structured cloning. */
export interface ImageTaskFailure {
  readonly code: ErrorCode;
  readonly message: string;
  /** Which image failed, or null when the response as a whole did. */
  readonly imageIndex: number | null;
}

/** What a task returns: the processed result, or why there is none. */
export type ImageTaskOutcome =
  | {
      readonly ok: true;
      readonly op: 'generation';
      readonly images: readonly ImageTaskImage[];
      readonly info: ForgeGenerationInfo;
      readonly parameters: Record<string, unknown>;
    }
  | {
      readonly ok: true;
      readonly op: 'upscale';
      readonly image: ImageTaskImage;
      readonly htmlInfo: string;
    }
  | { readonly ok: false; readonly failure: ImageTaskFailure };

/** Where an image sits in a generation response, for its seed and fallback infotext. */
interface ImageOrigin {
  readonly info: ForgeGenerationInfo | null;
  readonly index: number;
}

/** Carries a failure out of the nested steps of a task. */
class TaskFailure extends Error {
  readonly failure: ImageTaskFailure;

  constructor(failure: ImageTaskFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

/**
 * Processes one result on the current thread. Never throws: failures come back as records.
 *
 * @example
 * const outcome = runImageTask({ op: 'generation', body, jobId, thumbnailSidePx: 256 });
 */
export function runImageTask(task: ImageTask): ImageTaskOutcome {
  try {
    return task.op === 'generation' ? processGeneration(task) : processUpscale(task);
  } catch (error) {
    if (error instanceof TaskFailure) return { ok: false, failure: error.failure };
    return { ok: false, failure: unexpectedFailure(task.jobId, null, error) };
  }
}

/**
 * The worker's entry point: {@link runImageTask}, with every image buffer of the outcome moved
 * to the calling thread instead of copied.
 */
export default function imageWorker(task: ImageTask): object {
  const outcome = runImageTask(task);
  return move({ [transferableSymbol]: transferablesOf(outcome), [valueSymbol]: outcome });
}

function processGeneration(task: ImageTask): ImageTaskOutcome {
  const parsed = GenerationResultSchema.safeParse(parseBody(task));
  if (!parsed.success) throw badResponse(task, parsed.error.issues[0]);
  const { info, parameters } = parsed.data;
  const images = parsed.data.images.map((png, index) => processImage(task, png, { info, index }));
  return { ok: true, op: 'generation', images, info, parameters };
}

function processUpscale(task: ImageTask): ImageTaskOutcome {
  const parsed = ExtraSingleImageResultSchema.safeParse(parseBody(task));
  if (!parsed.success) throw badResponse(task, parsed.error.issues[0]);
  const image = processImage(task, parsed.data.image, { info: null, index: 0 });
  return { ok: true, op: 'upscale', image, htmlInfo: parsed.data.htmlInfo };
}

function parseBody(task: ImageTask): unknown {
  const text = new TextDecoder().decode(task.body);
  try {
    return JSON.parse(text);
  } catch {
    const start = text.trim().slice(0, 40);
    const found = start === '' ? 'an empty body' : `a body starting ${JSON.stringify(start)}`;
    throw new TaskFailure({
      code: 'FT_ERR_FORGE_BAD_RESPONSE',
      message: `Forge's ${task.op} answer for job ${task.jobId} is not JSON: got ${found}`,
      imageIndex: null,
    });
  }
}

function badResponse(
  task: ImageTask,
  issue: { path: readonly PropertyKey[]; message: string } | undefined,
): TaskFailure {
  const problem =
    issue === undefined
      ? 'the body has the wrong shape'
      : `${formatPath(issue.path)}: ${issue.message}`;
  const index = issue?.path[0] === 'images' ? issue.path[1] : undefined;
  return new TaskFailure({
    code: 'FT_ERR_FORGE_BAD_RESPONSE',
    message:
      `Forge's ${task.op} answer for job ${task.jobId} is not what the Forge API returns: ` +
      problem,
    imageIndex: typeof index === 'number' ? index : null,
  });
}

function processImage(task: ImageTask, png: Buffer, origin: ImageOrigin): ImageTaskImage {
  try {
    const { width, height } = readPngSize(png);
    const infotext = readPngParameters(png) ?? origin.info?.infotexts[origin.index] ?? null;
    const tagged = ownedBytes(writePngText(png, [[JOB_ID_KEYWORD, task.jobId]]));
    const sha256 = createHash('sha256').update(tagged).digest('hex');
    const thumbnail = ownedBytes(makeThumbnail(decodePng(png), task.thumbnailSidePx).png);
    const placement = seedOf(origin);
    return { png: tagged, thumbnail, sha256, width, height, infotext, ...placement };
  } catch (error) {
    throw new TaskFailure(imageFailure(task.jobId, origin.index, error));
  }
}

/**
 * Forge's grid rule (forge-api.md §5): with a grid, `images[0]` is the grid, and image `i`
 * belongs to `all_seeds[i - index_of_first_image]`; the grid carries the first image's seed.
 * Images past the seeds (extension outputs such as ControlNet maps) carry none.
 */
function seedOf({ info, index }: ImageOrigin): { seed: number | null; grid: boolean } {
  if (info === null) return { seed: null, grid: false };
  const first = info.index_of_first_image;
  if (index < first) return { seed: info.all_seeds[0] ?? info.seed, grid: true };
  return { seed: info.all_seeds[index - first] ?? null, grid: false };
}

function imageFailure(jobId: string, index: number, error: unknown): ImageTaskFailure {
  if (!(error instanceof ForgeToolError)) return unexpectedFailure(jobId, index, error);
  return {
    code: error.code,
    message: `image ${index} of job ${jobId}: ${error.message}`,
    imageIndex: index,
  };
}

function unexpectedFailure(jobId: string, index: number | null, error: unknown): ImageTaskFailure {
  const reason = error instanceof Error ? error.message : String(error);
  const what = index === null ? `the result of job ${jobId}` : `image ${index} of job ${jobId}`;
  return {
    code: 'FT_ERR_IMAGE_PROCESSING',
    message: `${what} could not be processed: ${reason}`,
    imageIndex: index,
  };
}

/** The ArrayBuffers to move with an outcome: each image buffer owns its own (see ownedBytes). */
function transferablesOf(outcome: ImageTaskOutcome): ArrayBuffer[] {
  if (!outcome.ok) return [];
  const images = outcome.op === 'generation' ? outcome.images : [outcome.image];
  return images.flatMap(({ png, thumbnail }) => [png.buffer, thumbnail.buffer] as ArrayBuffer[]);
}

/**
 * `bytes` itself when it spans a whole ArrayBuffer of its own, otherwise a copy that does.
 * Moving a view into a shared ArrayBuffer (Node's pool for small Buffers) to another thread
 * would detach every other view into it.
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole && bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
}
