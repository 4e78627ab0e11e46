/**
 * The generation request: what a client sends to have an image made (txt2img, img2img, or an
 * upscale of an earlier result), its defaults, its limits and its validation.
 *
 * Field names are snake_case, as in the REST API. Defaults are chosen for people, not copied from
 * Forge's API (which runs 50 steps at 512x512); `docs/requests.md` explains each choice. Unknown
 * keys are rejected: a typo such as `sampler_name` for `sampler` must not silently vanish.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { JobKind, OwnerSource } from './job.js';
import { RequestError } from './request-error.js';
import {
  base64Image,
  firstNonJsonPath,
  flag,
  httpUrl,
  integerIn,
  jobImageReference,
  nameField,
  nameList,
  numberIn,
  objectError,
  oneOf,
  ruleError,
  textOf,
  trimmedTextOf,
} from './request-fields.js';
import { toRequestIssues, type KnownKeys } from './request-issues.js';

/** Limits a deployment sets on requests; each is checked with a message naming the range. */
export interface RequestLimits {
  /**
   * Largest width or height in pixels, including the hires-fix output. A multiple of 8.
   * @defaultValue `2048`
   */
  maxSide?: number;
  /** Most sampling steps (also for the hires pass). @defaultValue `150` */
  maxSteps?: number;
  /** Most images per Forge batch (`batch_size`). @defaultValue `8` */
  maxBatchSize?: number;
  /** Most images per job (`batch_size × n_iter`). @defaultValue `16` */
  maxImagesPerJob?: number;
  /** Longest prompt or negative prompt, in characters, before wildcards. @defaultValue `4000` */
  maxPromptLength?: number;
  /** Deepest wildcard nesting a request may ask for (`wildcards.max_depth`). @defaultValue `20` */
  maxWildcardDepth?: number;
  /** Largest `metadata`, in bytes of its JSON text. @defaultValue `16_384` */
  maxMetadataBytes?: number;
}

/** The limits used when none are configured. */
export const DEFAULT_REQUEST_LIMITS = {
  maxSide: 2048,
  maxSteps: 150,
  maxBatchSize: 8,
  maxImagesPerJob: 16,
  maxPromptLength: 4000,
  maxWildcardDepth: 20,
  maxMetadataBytes: 16_384,
} as const satisfies Required<RequestLimits>;

/**
 * The defaults a request gets for fields it leaves out (when the limits allow them; a lower
 * limit lowers the default to the limit).
 */
export const REQUEST_DEFAULTS = {
  /** SDXL and Flux are trained at about one megapixel; 512 (Forge's default) looks broken there. */
  width: 1024,
  height: 1024,
  /** Enough for the usual samplers to converge; Forge's API default of 50 mostly costs time. */
  steps: 20,
  cfgScale: 7,
  seed: -1,
  batchSize: 1,
  nIter: 1,
  img2imgDenoisingStrength: 0.75,
  wildcardMaxDepth: 10,
  priority: 0,
  ownerId: 'anonymous',
  ownerSource: 'api',
  hiresScale: 2,
  hiresUpscaler: 'Latent',
  hiresDenoisingStrength: 0.5,
  upscaleScale: 2,
} as const;

/** The job kinds, in the order kind inference tries them. */
export const JOB_KINDS = ['txt2img', 'img2img', 'upscale'] as const satisfies readonly JobKind[];

/** The front ends a request can come through. */
export const OWNER_SOURCES = [
  'api',
  'discord',
  'slack',
  'vscode',
  'web',
] as const satisfies readonly OwnerSource[];

const MAX_SEED = 4_294_967_295;
const MAX_LIST_ITEMS = 16;

type FilledLimits = Required<RequestLimits>;

function imageSource() {
  return z.union(
    [base64Image(), jobImageReference()],
    ruleError("base64 image data or an earlier job's image { job_id, index }"),
  );
}

function hiresShape(limits: FilledLimits) {
  return {
    /** Whether the hires pass runs. @defaultValue `true` when the block is present */
    enabled: flag().default(true),
    /** Upscale factor of the first pass's size. @defaultValue `2` */
    scale: numberIn(1, 4).default(REQUEST_DEFAULTS.hiresScale),
    /** An upscaler or latent upscale mode name. @defaultValue `'Latent'` */
    upscaler: nameField().default(REQUEST_DEFAULTS.hiresUpscaler),
    /** Steps of the hires pass; 0 means as many as `steps`. @defaultValue `0` */
    steps: integerIn(0, limits.maxSteps).default(0),
    /** How much the hires pass may change the image. @defaultValue `0.5` */
    denoising_strength: numberIn(0, 1).default(REQUEST_DEFAULTS.hiresDenoisingStrength),
    /** Target width instead of `scale` (the other side follows the aspect ratio if left out). */
    resize_x: integerIn(64, limits.maxSide, 8).optional(),
    /** Target height instead of `scale`. */
    resize_y: integerIn(64, limits.maxSide, 8).optional(),
    /** CFG of the hires pass; the first pass's `cfg_scale` when left out. */
    cfg_scale: numberIn(1, 30).optional(),
  };
}

function upscaleShape() {
  const source = z.union(
    [jobImageReference(), z.strictObject({ image: base64Image() }, objectError('{ image }'))],
    ruleError("an earlier job's image { job_id, index } or { image: base64 }"),
  );
  return {
    /** The image to upscale. */
    source,
    /** An upscaler name as Forge lists it (`R-ESRGAN 4x+`, `Lanczos`, ...). */
    upscaler: nameField(),
    /** Upscale factor. @defaultValue `2` */
    scale: numberIn(1, 8).default(REQUEST_DEFAULTS.upscaleScale),
    /** A second upscaler blended over the first. */
    upscaler_2: nameField().optional(),
    /** How much of `upscaler_2` shows, 0 to 1. */
    upscaler_2_visibility: numberIn(0, 1).optional(),
  };
}

function wildcardsShape(limits: FilledLimits) {
  return {
    /** Whether `__name__` and `{a|b}` in prompts are expanded. @defaultValue `true` */
    enabled: flag().default(true),
    /** Deepest nesting of wildcards within wildcards. @defaultValue `10` */
    max_depth: integerIn(1, limits.maxWildcardDepth).default(
      Math.min(REQUEST_DEFAULTS.wildcardMaxDepth, limits.maxWildcardDepth),
    ),
  };
}

function ownerShape() {
  return {
    /** The user's id within its source. @defaultValue `'anonymous'` */
    id: textOf(1, 200).default(REQUEST_DEFAULTS.ownerId),
    /** The front end the request came through. @defaultValue `'api'` */
    source: oneOf(OWNER_SOURCES).default(REQUEST_DEFAULTS.ownerSource),
  };
}

/**
 * Every top-level field, in the order the docs list them. One declaration table rather than
 * short functions: the whole request reads top to bottom in one place.
 */
function requestShape(limits: FilledLimits) {
  const side = integerIn(64, limits.maxSide, 8);
  return {
    /** txt2img, img2img or upscale; when absent, `upscale` or `init_image` imply the kind. */
    kind: oneOf(JOB_KINDS).optional(),
    /** Required for txt2img and img2img; trimmed. */
    prompt: trimmedTextOf(1, limits.maxPromptLength).optional(),
    /** What the image should not show. @defaultValue `''` */
    negative_prompt: trimmedTextOf(0, limits.maxPromptLength).default(''),
    /** @defaultValue `1024` */
    width: side.default(Math.min(REQUEST_DEFAULTS.width, limits.maxSide)),
    /** @defaultValue `1024` */
    height: side.default(Math.min(REQUEST_DEFAULTS.height, limits.maxSide)),
    /** Sampling steps. @defaultValue `20` */
    steps: integerIn(1, limits.maxSteps).default(Math.min(REQUEST_DEFAULTS.steps, limits.maxSteps)),
    /** Classifier-free guidance scale. @defaultValue `7` */
    cfg_scale: numberIn(1, 30).default(REQUEST_DEFAULTS.cfgScale),
    /** Flux's distilled guidance; Forge uses 3.5 when left out. */
    distilled_cfg_scale: numberIn(0, 30).optional(),
    /** -1 for a random seed, or a 32-bit unsigned integer. @defaultValue `-1` */
    seed: z
      .number(ruleError(`-1 (random) or an integer from 0 to ${MAX_SEED}`))
      .refine(
        (seed) => seed === -1 || (Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED),
        ruleError(`-1 (random) or an integer from 0 to ${MAX_SEED}`),
      )
      .default(REQUEST_DEFAULTS.seed),
    /** A sampler name or alias; null means the backend's default. @defaultValue `null` */
    sampler: nameField().nullable().default(null),
    /** A scheduler name; null means the sampler's default. @defaultValue `null` */
    scheduler: nameField().nullable().default(null),
    /** Images per Forge batch. @defaultValue `1` */
    batch_size: integerIn(1, limits.maxBatchSize).default(
      Math.min(REQUEST_DEFAULTS.batchSize, limits.maxBatchSize),
    ),
    /** Batches run one after the other. @defaultValue `1` */
    n_iter: integerIn(1, limits.maxImagesPerJob).default(REQUEST_DEFAULTS.nIter),
    /** A checkpoint title, name or hash; null keeps the loaded one. @defaultValue `null` */
    checkpoint: nameField().nullable().default(null),
    /** Forge's additional modules: VAE and text encoder files (Flux needs them). */
    modules: nameList(MAX_LIST_ITEMS).optional(),
    /** Stop CLIP this many layers from the end (1 = the last layer). */
    clip_skip: integerIn(1, 12).optional(),
    /** Saved Forge prompt styles applied to the prompt. @defaultValue `[]` */
    styles: nameList(MAX_LIST_ITEMS).default([]),
    /** Hires fix (txt2img only): a second, upscaled pass. */
    hires: z.strictObject(hiresShape(limits), objectError('an object of hires options')).optional(),
    /** img2img's source image: base64 data, or an earlier job's image. */
    init_image: imageSource().optional(),
    /** img2img inpainting mask (white = repaint), same forms as `init_image`. */
    mask: imageSource().optional(),
    /** img2img: how much the image may change. @defaultValue `0.75` for img2img */
    denoising_strength: numberIn(0, 1).optional(),
    /** img2img: 0 resize, 1 crop and resize, 2 resize and fill, 3 latent upscale. */
    resize_mode: integerIn(0, 3).optional(),
    /** The upscale job: source image and upscaler. */
    upscale: z.strictObject(upscaleShape(), objectError('an object of upscale options')).optional(),
    /** Wildcard expansion of the prompts. @defaultValue `{ enabled: true, max_depth: 10 }` */
    wildcards: z
      .strictObject(wildcardsShape(limits), objectError('an object { enabled, max_depth }'))
      .prefault({}),
    /** Higher runs earlier. @defaultValue `0` */
    priority: integerIn(-10, 10).default(REQUEST_DEFAULTS.priority),
    /** Who asks. @defaultValue `{ id: 'anonymous', source: 'api' }` */
    owner: z.strictObject(ownerShape(), objectError('an object { id, source }')).prefault({}),
    /** Where the job's webhook events go. */
    webhook_url: httpUrl().optional(),
    /** A repeated submit with the same key (and owner) returns the same job. */
    idempotency_key: textOf(1, 200).optional(),
    /** Only backends that have every one of these tags may run the job. */
    backend_tags: nameList(MAX_LIST_ITEMS).optional(),
    /** The job's own time limit in milliseconds, from 1 s to 24 h. */
    timeout_ms: integerIn(1_000, 86_400_000).optional(),
    /** Free JSON data kept with the job and echoed in its events. */
    metadata: z
      .record(z.string(), z.unknown(), objectError('a JSON object'))
      .refine((value) => !Array.isArray(value), ruleError('a JSON object'))
      .optional(),
  };
}

/** Every key each object of the request accepts, for messages about unknown keys. */
const KNOWN_KEYS: KnownKeys = (() => {
  const keys = (shape: object): string[] => Object.keys(shape);
  const limits = DEFAULT_REQUEST_LIMITS;
  const reference = ['job_id', 'index'];
  return new Map([
    ['', keys(requestShape(limits))],
    ['hires', keys(hiresShape(limits))],
    ['upscale', keys(upscaleShape())],
    ['upscale.source', [...reference, 'image']],
    ['wildcards', keys(wildcardsShape(limits))],
    ['owner', keys(ownerShape())],
    ['init_image', reference],
    ['mask', reference],
  ]);
})();

/**
 * Builds the request schema for a deployment's limits. Its output has every default applied
 * and `kind` filled in.
 * @throws ConfigError (`FT_ERR_CONFIG_INVALID`) when a limit is not a positive integer, or
 *   `maxSide` is not a multiple of 8 from 64
 */
export function createGenerationRequestSchema(limits: RequestLimits = {}) {
  const filled = fillLimits(limits);
  return z
    .strictObject(requestShape(filled), objectError('a JSON object of request fields'))
    .superRefine(
      (request, context) => {
        const flagged = new Set(context.issues.map((issue) => issue.path?.[0]));
        for (const issue of crossFieldIssues(request, filled, flagged)) {
          context.addIssue({ code: 'custom', path: [issue.field], message: issue.message });
        }
      },
      // Also after a field had the wrong type, so that one response names every problem. Rules
      // that read a field with a problem of its own are skipped.
      { when: (payload) => isPlainObject(payload.value) },
    )
    .transform(completeRequest);
}

/** Fills in what depends on the kind: the kind itself, the prompt, img2img's denoising. */
function completeRequest(request: ParsedFields) {
  const kind = inferKind(request);
  const prompt = request.prompt ?? '';
  if (kind !== 'img2img') return { ...request, kind, prompt };
  const denoising = request.denoising_strength ?? REQUEST_DEFAULTS.img2imgDenoisingStrength;
  return { ...request, kind, prompt, denoising_strength: denoising };
}

/** The request schema with {@link DEFAULT_REQUEST_LIMITS}. */
export const GenerationRequestSchema = createGenerationRequestSchema();

/** A request as a client may send it: most fields optional. */
export type GenerationRequestInput = z.input<typeof GenerationRequestSchema>;

/** A validated request: defaults applied, `kind` known, `prompt` trimmed (`''` for upscale). */
export type GenerationRequest = z.output<typeof GenerationRequestSchema>;

/** The hires-fix options of a validated request. */
export type HiresOptions = NonNullable<GenerationRequest['hires']>;

/** The upscale options of a validated upscale request. */
export type UpscaleOptions = NonNullable<GenerationRequest['upscale']>;

/** An image given inline (base64) or as an earlier job's image. */
export type ImageSource = NonNullable<GenerationRequest['init_image']>;

/** A reference to an image of an earlier job. */
export type JobImageReference = Exclude<ImageSource, string>;

/**
 * The request after wildcard expansion and seed resolution: exactly what runs. `prompt` and
 * `negative_prompt` are the final strings, `seed` is a concrete 32-bit unsigned integer (never
 * -1), and `wildcard_trace` is the wildcard engine's record of its choices (null when nothing was
 * expanded); everything else is as in the request.
 */
export type ResolvedGenerationRequest = GenerationRequest & {
  /** The wildcard engine's trace of its choices, opaque here; null when nothing was expanded. */
  readonly wildcard_trace: unknown;
};

const schemaCache = new WeakMap<RequestLimits, ReturnType<typeof createGenerationRequestSchema>>();

/**
 * Validates a request and applies its defaults.
 * @param limits - the deployment's limits; {@link DEFAULT_REQUEST_LIMITS} when left out
 * @throws RequestError (`FT_ERR_REQUEST_INVALID`) naming every field that breaks a rule and
 *   what it allows
 * @throws ConfigError when `limits` itself is invalid
 * @example
 * ```ts
 * const request = parseGenerationRequest({ prompt: 'a lighthouse at dusk', steps: 30 });
 * request.width; // 1024
 * ```
 */
export function parseGenerationRequest(input: unknown, limits?: RequestLimits): GenerationRequest {
  const schema = limits === undefined ? GenerationRequestSchema : cachedSchema(limits);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new RequestError(toRequestIssues(result.error.issues, KNOWN_KEYS), {
    cause: result.error,
  });
}

/** The kind a request names, or the one its fields imply. */
export function inferKind(request: {
  kind?: JobKind | undefined;
  upscale?: unknown;
  init_image?: unknown;
}): JobKind {
  if (request.kind !== undefined) return request.kind;
  if (request.upscale !== undefined) return 'upscale';
  return request.init_image === undefined ? 'txt2img' : 'img2img';
}

function cachedSchema(limits: RequestLimits): ReturnType<typeof createGenerationRequestSchema> {
  let schema = schemaCache.get(limits);
  if (schema === undefined) {
    schema = createGenerationRequestSchema(limits);
    schemaCache.set(limits, schema);
  }
  return schema;
}

function fillLimits(limits: RequestLimits): FilledLimits {
  const filled: FilledLimits = { ...DEFAULT_REQUEST_LIMITS };
  for (const [name, value] of Object.entries(limits) as [keyof FilledLimits, unknown][]) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_REQUEST_LIMITS)) {
      throw new ConfigError(`limits.${name} is not a request limit`);
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new ConfigError(`limits.${name} must be a positive integer, got ${String(value)}`);
    }
    filled[name] = value;
  }
  if (filled.maxSide < 64 || filled.maxSide % 8 !== 0) {
    throw new ConfigError(`limits.maxSide must be a multiple of 8 from 64, got ${filled.maxSide}`);
  }
  return filled;
}

/** The parsed request before `kind` is filled in. */
type ParsedFields = z.output<z.ZodObject<ReturnType<typeof requestShape>>>;

interface FieldIssue {
  field: string;
  message: string;
}

/** Rules that involve more than one field; `flagged` holds the fields already found wrong. */
function crossFieldIssues(
  request: ParsedFields,
  limits: FilledLimits,
  flagged: ReadonlySet<PropertyKey | undefined>,
): FieldIssue[] {
  const valid = (...fields: (keyof ParsedFields)[]): boolean =>
    fields.every((field) => !flagged.has(field));
  return [
    ...(valid('kind') ? kindIssues(request, limits) : []),
    ...(valid('batch_size', 'n_iter') ? imageCountIssues(request, limits) : []),
    ...(valid('width', 'height', 'hires') ? hiresSizeIssues(request, limits) : []),
    ...(valid('metadata') ? metadataIssues(request, limits) : []),
  ];
}

function kindIssues(request: ParsedFields, limits: FilledLimits): FieldIssue[] {
  const kind = inferKind(request);
  const issues: FieldIssue[] = [];
  const onlyFor = (field: keyof ParsedFields, allowed: JobKind): void => {
    if (request[field] === undefined || kind === allowed) return;
    issues.push({ field, message: `is only for ${allowed} jobs, and this is a ${kind} job` });
  };
  if (kind !== 'upscale' && request.prompt === undefined) {
    const rule = `a string of 1 to ${limits.maxPromptLength} characters`;
    issues.push({ field: 'prompt', message: `is required for ${kind} jobs: ${rule}` });
  }
  if (kind === 'img2img' && request.init_image === undefined) {
    const rule = "base64 image data or an earlier job's image { job_id, index }";
    issues.push({ field: 'init_image', message: `is required for img2img jobs: ${rule}` });
  }
  if (kind === 'upscale' && request.upscale === undefined) {
    issues.push({
      field: 'upscale',
      message: 'is required for upscale jobs: { source, upscaler }',
    });
  }
  for (const field of ['init_image', 'mask', 'denoising_strength', 'resize_mode'] as const) {
    onlyFor(field, 'img2img');
  }
  onlyFor('upscale', 'upscale');
  // Forge's img2img endpoint has no hires pass: the fields would be dropped without a word.
  onlyFor('hires', 'txt2img');
  return issues;
}

function imageCountIssues(request: ParsedFields, limits: FilledLimits): FieldIssue[] {
  const images = request.batch_size * request.n_iter;
  if (images <= limits.maxImagesPerJob) return [];
  const got = `${request.batch_size} × ${request.n_iter} = ${images}`;
  const rule = `at most ${limits.maxImagesPerJob} images per job (batch_size × n_iter)`;
  return [{ field: 'n_iter', message: `with batch_size, must make ${rule}, got ${got}` }];
}

/** The size a txt2img hires pass produces, the way Forge computes it. */
export function hiresOutputSize(
  width: number,
  height: number,
  hires: Pick<HiresOptions, 'scale' | 'resize_x' | 'resize_y'>,
): { width: number; height: number } {
  const { resize_x: resizeX, resize_y: resizeY } = hires;
  if (resizeX === undefined && resizeY === undefined) {
    return { width: Math.floor(width * hires.scale), height: Math.floor(height * hires.scale) };
  }
  return {
    width: resizeX ?? Math.floor(((resizeY ?? 0) * width) / height),
    height: resizeY ?? Math.floor(((resizeX ?? 0) * height) / width),
  };
}

function hiresSizeIssues(request: ParsedFields, limits: FilledLimits): FieldIssue[] {
  const hires = request.hires;
  if (hires === undefined || !hires.enabled) return [];
  const size = hiresOutputSize(request.width, request.height, hires);
  if (Math.max(size.width, size.height) <= limits.maxSide) return [];
  const byScale = hires.resize_x === undefined && hires.resize_y === undefined;
  const largestScale = Math.floor((limits.maxSide / Math.max(request.width, request.height)) * 100);
  const hint = byScale
    ? `scale must be at most ${largestScale / 100} for ${request.width}x${request.height}`
    : 'choose a smaller resize_x or resize_y';
  const made = `${size.width}x${size.height}`;
  return [
    {
      field: byScale ? 'hires.scale' : 'hires.resize_x',
      message: `makes ${made}, larger than ${limits.maxSide} on a side; ${hint}`,
    },
  ];
}

function metadataIssues(request: ParsedFields, limits: FilledLimits): FieldIssue[] {
  if (request.metadata === undefined) return [];
  const badPath = firstNonJsonPath(request.metadata);
  if (badPath !== undefined) {
    const message =
      'must hold only JSON values (strings, finite numbers, booleans, null, arrays, objects)';
    return [{ field: `metadata${badPath}`, message }];
  }
  const bytes = Buffer.byteLength(JSON.stringify(request.metadata));
  if (bytes <= limits.maxMetadataBytes) return [];
  const message = `must be at most ${limits.maxMetadataBytes} bytes as JSON, got ${bytes}`;
  return [{ field: 'metadata', message }];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
