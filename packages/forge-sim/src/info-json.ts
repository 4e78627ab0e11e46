/**
 * The `info` string of a txt2img/img2img response: `json.dumps(Processed.js())` with Python's
 * default separators and `ensure_ascii=True` (forge-api.md §5).
 */
import { pyJsonDumps } from './python-format.js';
import type { PyFloat, PyNumber } from './python-format.js';

/**
 * Everything `Processed.js()` reports. Field names are Forge's own snake_case keys, so a value
 * lands under the key it is named after; {@link buildInfoJson} fixes the order.
 *
 * Numbers print as Python holds them: `cfg_scale` and `denoising_strength` are always floats in
 * Forge, so their types demand a `PyFloat`; `subseed_strength` is the int `0` when the request
 * left it out and a float when the request sent it, so pass `pyFloat(x)` in the second case.
 */
export interface GenerationInfo {
  /** `all_prompts[0]`. */
  readonly prompt: string;
  /** One prompt per image (`batch_size * n_iter`), styles applied. */
  readonly all_prompts: readonly string[];
  readonly negative_prompt: string;
  readonly all_negative_prompts: readonly string[];
  /** The resolved first seed. */
  readonly seed: number;
  readonly all_seeds: readonly number[];
  readonly subseed: number;
  readonly all_subseeds: readonly number[];
  readonly subseed_strength: PyNumber | null;
  readonly width: number;
  readonly height: number;
  /** The resolved sampler name. */
  readonly sampler_name: string;
  readonly cfg_scale: PyFloat;
  readonly steps: number;
  readonly batch_size: number;
  /** The request's value; `null` when it sent none. */
  readonly restore_faces: boolean | null;
  /** `null` unless faces were restored. */
  readonly face_restoration_model: string | null;
  /** The checkpoint's file stem. */
  readonly sd_model_name: string | null;
  /** The checkpoint's 10-hex short hash. */
  readonly sd_model_hash: string | null;
  readonly sd_vae_name: string | null;
  readonly sd_vae_hash: string | null;
  readonly seed_resize_from_w: number;
  readonly seed_resize_from_h: number;
  /** `null` for txt2img without hires fix unless the request sent it. */
  readonly denoising_strength: PyFloat | null;
  /**
   * `extra_generation_params`, as a record or as `[key, value]` pairs in insertion order. Callable
   * values (Forge's `Hires prompt` hook) print `null`, as in Forge.
   */
  readonly extra_generation_params:
    Readonly<Record<string, unknown>> | ReadonlyArray<readonly [key: string, value: unknown]>;
  /** 1 when a grid image is prepended, otherwise 0. */
  readonly index_of_first_image: number;
  /** One infotext per returned image, grid included. */
  readonly infotexts: readonly string[];
  readonly styles: readonly string[];
  /** `YYYYmmddHHMMSS` of the job's start. */
  readonly job_timestamp: string;
  readonly clip_skip: number;
  readonly is_using_inpainting_conditioning: boolean;
  /** The Forge version string, or `null` when git describe failed. */
  readonly version: string | null;
}

/** The keys of `Processed.js()`, in Forge's order. */
export const INFO_KEYS: readonly (keyof GenerationInfo)[] = [
  'prompt',
  'all_prompts',
  'negative_prompt',
  'all_negative_prompts',
  'seed',
  'all_seeds',
  'subseed',
  'all_subseeds',
  'subseed_strength',
  'width',
  'height',
  'sampler_name',
  'cfg_scale',
  'steps',
  'batch_size',
  'restore_faces',
  'face_restoration_model',
  'sd_model_name',
  'sd_model_hash',
  'sd_vae_name',
  'sd_vae_hash',
  'seed_resize_from_w',
  'seed_resize_from_h',
  'denoising_strength',
  'extra_generation_params',
  'index_of_first_image',
  'infotexts',
  'styles',
  'job_timestamp',
  'clip_skip',
  'is_using_inpainting_conditioning',
  'version',
];

/**
 * Serializes generation info into the response's `info` string, keys in Forge's order.
 *
 * @example
 * const response = { images, parameters, info: buildInfoJson(info) };
 */
export function buildInfoJson(info: GenerationInfo): string {
  const ordered: Record<string, unknown> = {};
  // A missing field would vanish from the JSON; Forge always writes every key.
  for (const key of INFO_KEYS) ordered[key] = info[key] === undefined ? null : info[key];
  ordered['extra_generation_params'] = extraParamsRecord(info.extra_generation_params);
  return pyJsonDumps(ordered);
}

function extraParamsRecord(
  extra: GenerationInfo['extra_generation_params'],
): Record<string, unknown> {
  const entries: ReadonlyArray<readonly [string, unknown]> = isPairList(extra)
    ? extra
    : Object.entries(extra);
  const record: Record<string, unknown> = {};
  // A missing value would vanish from the JSON; Forge prints None as null.
  for (const [key, value] of entries) record[key] = value === undefined ? null : value;
  return record;
}

function isPairList(
  extra: GenerationInfo['extra_generation_params'],
): extra is ReadonlyArray<readonly [string, unknown]> {
  return Array.isArray(extra);
}
