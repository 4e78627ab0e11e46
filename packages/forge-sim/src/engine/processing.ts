/**
 * The resolved parameters of one generation (Forge's `StableDiffusionProcessing` object after
 * `process_images_inner` filled it in), and the infotext and `info` built from them.
 */
import {
  checkpointShortHash,
  checkpointStem,
  FORGE_VERSION,
  SAMPLERS,
  type CheckpointRecord,
  type GenerationMode,
} from '../catalog/index.js';
import { buildInfoJson } from '../info-json.js';
import { createInfotext, type InfotextFields } from '../infotext/index.js';
import { pyFloat, type PyFloat, type PyNumber } from '../python-format.js';
import type { OptionsStore } from './options-store.js';

/** A value of `extra_generation_params` that Forge computes per image (`Hires prompt`). */
export type PerImageValue = (index: number) => unknown;

/** Everything the infotexts and `info` of a generation are made from. */
export interface Processing {
  readonly mode: GenerationMode;
  /** The request's prompt before styles (`p.prompt`). */
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly styles: readonly string[];
  readonly allPrompts: readonly string[];
  readonly allNegativePrompts: readonly string[];
  readonly allSeeds: readonly number[];
  readonly allSubseeds: readonly number[];
  /** Images per batch; img2img lowers it to the number of init images. */
  batchSize: number;
  readonly nIter: number;
  readonly steps: number;
  /** First-pass size (`p.width`, `p.height`): what `Size` and `info.width` report. */
  readonly width: number;
  readonly height: number;
  readonly sampler: string;
  /** The scheduler label stored on `p` (`Automatic` unless the request chose one). */
  readonly scheduler: string;
  readonly cfgScale: PyNumber;
  readonly distilledCfgScale: PyNumber;
  readonly subseedStrength: PyNumber | null;
  readonly denoisingStrength: PyNumber | null;
  readonly seedResizeFromW: number;
  readonly seedResizeFromH: number;
  readonly restoreFaces: boolean;
  readonly tiling: boolean;
  /** The first-pass checkpoint. */
  readonly checkpoint: CheckpointRecord;
  /** Whether that checkpoint uses distilled CFG (Flux dev). */
  readonly distilledCfg: boolean;
  /** `extra_generation_params`, in insertion order. */
  readonly extra: Map<string, unknown>;
}

/** Builds the infotext of image `index` (of all images of the job), as `create_infotext`. */
export function imageInfotext(
  p: Processing,
  options: OptionsStore,
  index: number,
  useMainPrompt = false,
): string {
  const at = useMainPrompt ? 0 : index;
  const prompt = p.allPrompts[at] ?? p.prompt;
  const negativePrompt = p.allNegativePrompts[at] ?? p.negativePrompt;
  const fields: InfotextFields = {
    prompt,
    negativePrompt,
    steps: p.steps,
    sampler: p.sampler,
    scheduleType: p.scheduler,
    cfgScale: p.cfgScale,
    distilledCfgScale: p.distilledCfg ? p.distilledCfgScale : null,
    seed: p.allSeeds[at] ?? 0,
    faceRestoration: p.restoreFaces ? optionText(options, 'face_restoration_model') : null,
    width: p.width,
    height: p.height,
    modelHash: options.get('add_model_hash_to_info') ? checkpointShortHash(p.checkpoint) : null,
    model: options.get('add_model_name_to_info') ? checkpointStem(p.checkpoint) : null,
    variationSeed: p.allSubseeds[at] ?? null,
    variationSeedStrength: p.subseedStrength,
    seedResizeFrom: { width: p.seedResizeFromW, height: p.seedResizeFromH },
    clipSkip: Math.trunc(Number(options.get('CLIP_stop_at_last_layers') ?? 1)),
    ensd: ensd(p, options),
    tiling: p.tiling,
    extra: evaluateExtra(p.extra, at),
    version: options.get('add_version_to_infotext') ? FORGE_VERSION : null,
    lowBits: optionText(options, 'forge_unet_storage_dtype'),
    modules: moduleList(options),
  };
  return createInfotext(fields);
}

function evaluateExtra(
  extra: ReadonlyMap<string, unknown>,
  index: number,
): Array<[string, unknown]> {
  return [...extra].map(([key, value]) => [
    key,
    typeof value === 'function' ? (value as PerImageValue)(index) : value,
  ]);
}

function ensd(p: Processing, options: OptionsStore): number | null {
  const delta = Number(options.get('eta_noise_seed_delta') ?? 0);
  if (delta === 0) return null;
  const sampler = SAMPLERS.find((entry) => entry.name === p.sampler);
  return sampler?.options['uses_ensd'] ? delta : null;
}

function optionText(options: OptionsStore, key: string): string | null {
  const value = options.get(key);
  return typeof value === 'string' ? value : null;
}

function moduleList(options: OptionsStore): string[] {
  const value = options.get('forge_additional_modules');
  return Array.isArray(value) ? value.map(String) : [];
}

/** `Processed.js()` as the response's `info` string. */
export function processedInfo(
  p: Processing,
  options: OptionsStore,
  infotexts: readonly string[],
  indexOfFirstImage: number,
  jobTimestamp: string,
): string {
  const allPrompts = p.allPrompts.length > 0 ? p.allPrompts : [p.prompt];
  const allNegative = p.allNegativePrompts.length > 0 ? p.allNegativePrompts : [p.negativePrompt];
  return buildInfoJson({
    prompt: allPrompts[0] ?? '',
    all_prompts: allPrompts,
    negative_prompt: allNegative[0] ?? '',
    all_negative_prompts: allNegative,
    seed: p.allSeeds[0] ?? -1,
    all_seeds: p.allSeeds,
    subseed: p.allSubseeds[0] ?? -1,
    all_subseeds: p.allSubseeds,
    subseed_strength: p.subseedStrength,
    width: p.width,
    height: p.height,
    sampler_name: p.sampler,
    cfg_scale: asFloat(p.cfgScale),
    steps: p.steps,
    batch_size: p.batchSize,
    restore_faces: p.restoreFaces,
    face_restoration_model: p.restoreFaces ? optionText(options, 'face_restoration_model') : null,
    sd_model_name: checkpointStem(p.checkpoint),
    sd_model_hash: checkpointShortHash(p.checkpoint),
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: p.seedResizeFromW,
    seed_resize_from_h: p.seedResizeFromH,
    denoising_strength: p.denoisingStrength === null ? null : asFloat(p.denoisingStrength),
    extra_generation_params: [...p.extra],
    index_of_first_image: indexOfFirstImage,
    infotexts,
    styles: p.styles,
    job_timestamp: jobTimestamp,
    clip_skip: Math.trunc(Number(options.get('CLIP_stop_at_last_layers') ?? 1)),
    is_using_inpainting_conditioning: false,
    version: FORGE_VERSION,
  });
}

function asFloat(value: PyNumber): PyFloat {
  return typeof value === 'number' ? pyFloat(value) : value;
}
