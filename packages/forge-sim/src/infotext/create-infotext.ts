/**
 * How Forge writes the PNG `parameters` text, the "infotext" (forge-api.md §8):
 * `processing.create_infotext`, with Forge's key order and `infotext_utils.quote` for values.
 */
import { fileStem, FORGE_VERSION } from '../catalog/index.js';
import { pyJsonDumps, pyStr, pyStrip, type PyNumber } from '../python-format.js';

/**
 * The values one image's infotext is built from. Numbers print as Python would hold them: wrap
 * floats in `pyFloat()` (an API `cfg_scale` of 7 is the float `7.0`); plain integral numbers
 * print as ints. Optional fields left out or `null` are omitted from the text.
 */
export interface InfotextFields {
  /** The image's prompt, styles applied. */
  readonly prompt: string;
  /** The image's negative prompt; its line is omitted when empty. */
  readonly negativePrompt?: string | null;
  readonly steps: number;
  /** The resolved sampler name. */
  readonly sampler: string;
  /** What `Schedule type` shows; see `scheduleTypeForInfotext`. */
  readonly scheduleType: string;
  readonly cfgScale: PyNumber;
  /** Only for distilled-CFG models (Flux dev); `null` otherwise. */
  readonly distilledCfgScale?: PyNumber | null;
  /** img2img's `image_cfg_scale`, when set. */
  readonly imageCfgScale?: PyNumber | null;
  /** This image's seed (`all_seeds[index]`). */
  readonly seed: number;
  /** The face restoration model, only when faces were restored. */
  readonly faceRestoration?: string | null;
  readonly width: number;
  readonly height: number;
  /** The checkpoint's 10-hex short hash. */
  readonly modelHash?: string | null;
  /** The checkpoint's file stem. */
  readonly model?: string | null;
  /** This image's variation seed; printed only when the strength is non-zero. */
  readonly variationSeed?: number | null;
  /** `subseed_strength`; 0 or `null` leaves both variation keys out. */
  readonly variationSeedStrength?: PyNumber | null;
  /** `seed_resize_from_w`/`_h`; printed only when both are positive. */
  readonly seedResizeFrom?: { readonly width: number; readonly height: number } | null;
  /** img2img or hires denoising strength. */
  readonly denoisingStrength?: PyNumber | null;
  /** Printed only when greater than 1. */
  readonly clipSkip?: number | null;
  /** Eta noise seed delta, for samplers that use it when it is non-zero. */
  readonly ensd?: number | null;
  /** Printed as `Tiling: True` when true. */
  readonly tiling?: boolean | null;
  /**
   * `extra_generation_params` in insertion order (hires keys, `Lora hashes`, ...). A key that
   * already exists (`Schedule type`, `Denoising strength`) overwrites it in place. Values must
   * be this image's values: Forge indexes per-image lists before formatting.
   */
  readonly extra?: ReadonlyArray<readonly [key: string, value: unknown]>;
  /**
   * The `Version` value; `null` leaves it out (`add_version_to_infotext` off).
   * @defaultValue FORGE_VERSION
   */
  readonly version?: string | null;
  /** The `User` value, when `add_user_name_to_info` is on. */
  readonly user?: string | null;
  /** `forge_unet_storage_dtype`; shown as `Diffusion in Low Bits` unless `Automatic`. */
  readonly lowBits?: string | null;
  /** `forge_additional_modules` entries (paths or file names); each prints its file stem. */
  readonly modules?: readonly string[];
}

/**
 * Forge's `infotext_utils.quote`: a value whose text contains `,`, `:` or a newline is written
 * as `json.dumps(value, ensure_ascii=False)`, anything else as Python's `str()`.
 *
 * @example
 * quoteInfotextValue('a: 1, b: 2'); // '"a: 1, b: 2"'
 */
export function quoteInfotextValue(value: unknown): string {
  const text = pyStr(value);
  if (!text.includes(',') && !text.includes('\n') && !text.includes(':')) return text;
  return pyJsonDumps(value, { ensureAscii: false });
}

/**
 * Builds one image's infotext exactly as `processing.create_infotext` does: the prompt, a
 * `Negative prompt:` line when there is one, then `Key: value` pairs in Forge's order
 * (§8.2), with `Version`, `Diffusion in Low Bits` and `Module N` at the end.
 *
 * @example
 * createInfotext({
 *   prompt: 'a cat', negativePrompt: 'blurry', steps: 20, sampler: 'Euler a',
 *   scheduleType: 'Automatic', cfgScale: pyFloat(7), seed: 1234, width: 512, height: 512,
 *   modelHash: '6ce0161689', model: 'v1-5-pruned-emaonly',
 * });
 */
export function createInfotext(fields: InfotextFields): string {
  const params = orderedParameters(fields);
  const parameterText = [...params]
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => (key === value ? key : `${key}: ${quoteInfotextValue(value)}`))
    .join(', ');
  const negative = fields.negativePrompt ? `\nNegative prompt: ${fields.negativePrompt}` : '';
  return pyStrip(`${fields.prompt}${negative}\n${parameterText}`);
}

/** Forge's `generation_params` dictionary: a Map keeps insertion order and in-place updates. */
function orderedParameters(fields: InfotextFields): Map<string, unknown> {
  const params = new Map<string, unknown>([
    ['Steps', fields.steps],
    ['Sampler', fields.sampler],
    ['Schedule type', fields.scheduleType],
    ['CFG scale', fields.cfgScale],
  ]);
  if (fields.distilledCfgScale != null) params.set('Distilled CFG Scale', fields.distilledCfgScale);

  for (const [key, value] of baseParameters(fields)) params.set(key, value);
  for (const [key, value] of fields.extra ?? []) params.set(key, value);
  params.set('Version', fields.version === undefined ? FORGE_VERSION : fields.version);
  params.set('User', fields.user ?? null);

  if (fields.lowBits != null && fields.lowBits !== 'Automatic') {
    params.set('Diffusion in Low Bits', fields.lowBits);
  }
  (fields.modules ?? []).forEach((module, index) =>
    params.set(`Module ${index + 1}`, fileStem(module)),
  );
  return params;
}

// Keys Forge always creates, even when their value is None, so that an extra parameter with
// the same key lands in this position.
function baseParameters(fields: InfotextFields): Array<[string, unknown]> {
  const hasVariation =
    fields.variationSeedStrength != null && Number(fields.variationSeedStrength) !== 0;
  const resize = fields.seedResizeFrom;
  return [
    ['Image CFG scale', fields.imageCfgScale ?? null],
    ['Seed', fields.seed],
    ['Face restoration', fields.faceRestoration ?? null],
    ['Size', `${fields.width}x${fields.height}`],
    ['Model hash', fields.modelHash ?? null],
    ['Model', fields.model ?? null],
    ['FP8 weight', null],
    ['Cache FP16 weight for LoRA', null],
    ['Variation seed', hasVariation ? (fields.variationSeed ?? null) : null],
    ['Variation seed strength', hasVariation ? fields.variationSeedStrength : null],
    [
      'Seed resize from',
      resize && resize.width > 0 && resize.height > 0 ? `${resize.width}x${resize.height}` : null,
    ],
    ['Denoising strength', fields.denoisingStrength ?? null],
    ['Conditional mask weight', null],
    ['Clip skip', fields.clipSkip != null && fields.clipSkip > 1 ? fields.clipSkip : null],
    ['ENSD', fields.ensd ?? null],
    ['Token merging ratio', null],
    ['Token merging ratio hr', null],
    ['Init image hash', null],
    ['RNG', null],
    ['Tiling', fields.tiling ? 'True' : null],
  ];
}
