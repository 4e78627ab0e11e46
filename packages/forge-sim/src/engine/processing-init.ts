/**
 * The `init` step of Forge's processing classes and the LoRA extension's activation: what they
 * check, and what they add to `extra_generation_params` (so to the infotext and `info`).
 */
import {
  applyStyles,
  checkpointShortHash,
  checkpointStem,
  closestCheckpoint,
  fileStem,
  LATENT_UPSCALE_MODES,
  LORAS,
  LORA_SHORT_HASHES,
  UPSCALERS,
} from '../catalog/index.js';
import { PythonException } from '../http/errors.js';
import type { PyNumber } from '../python-format.js';
import type { PreparedGeneration } from './generation-request.js';
import { hiresTarget, type HiresTarget } from './hires.js';
import type { OptionsStore } from './options-store.js';
import type { Processing } from './processing.js';
import type { RequestValues } from './request-values.js';
import type { SimContext } from './sim-context.js';

/** The hires settings of a txt2img request with `enable_hr`. */
export interface HiresPlan {
  readonly target: HiresTarget;
  /** `hr_second_pass_steps or steps`. */
  readonly steps: number;
  /** `hr_sampler_name or sampler_name` (not resolved: an unknown name fails later). */
  readonly sampler: string;
  /** `hr_scheduler`, defaulting to the first pass's scheduler. */
  readonly scheduler: string;
  /** Whether the upscaler works on latents (no decode before the second pass). */
  readonly upscalerIsLatent: boolean;
  /** `hr_checkpoint_name` when it asks for another checkpoint. */
  readonly checkpointName: string | null;
}

/**
 * `StableDiffusionProcessingTxt2Img.init` for `enable_hr`: the hires infotext keys in Forge's
 * insertion order, the upscaler check, the target size and the doubled `job_count`.
 *
 * @returns null when the request is not a hires txt2img
 * @throws PythonException `Exception` for an unknown upscaler or hires checkpoint
 */
export function initHires(
  request: PreparedGeneration,
  p: Processing,
  context: SimContext,
): HiresPlan | null {
  const { values } = request;
  if (request.mode !== 'txt2img' || !values.flag('enable_hr')) return null;
  const { extra } = p;
  extra.set('Denoising strength', p.denoisingStrength);
  const checkpointName = hiresCheckpoint(values, p, context);
  hiresModuleEntries(values, p);
  const hrSampler = values.text('hr_sampler_name');
  if (hrSampler !== null && hrSampler !== p.sampler) extra.set('Hires sampler', hrSampler);
  extra.set('Hires prompt', hiresPromptHook(values, p, 'hr_prompt'));
  extra.set('Hires negative prompt', hiresPromptHook(values, p, 'hr_negative_prompt'));
  extra.set('Hires CFG Scale', values.pyNumber('hr_cfg'));
  extra.set('Hires Distilled CFG Scale', null);
  extra.set('Hires schedule type', null);

  const upscaler = values.text('hr_upscaler');
  const upscalerIsLatent =
    upscaler === null || LATENT_UPSCALE_MODES.some((mode) => mode.name === upscaler);
  if (!upscalerIsLatent && !UPSCALERS.some((entry) => entry.name === upscaler)) {
    throw new PythonException('Exception', `could not find upscaler named ${String(upscaler)}`);
  }
  const target = hiresTargetOf(values, p);
  extra.set(target.infotextKey, target.infotextValue);
  doubleJobCount(context, p.nIter);
  const secondPassSteps = values.number('hr_second_pass_steps') ?? 0;
  if (secondPassSteps) extra.set('Hires steps', secondPassSteps);
  if (upscaler !== null) extra.set('Hires upscaler', upscaler);
  return {
    target,
    steps: secondPassSteps || p.steps,
    sampler: hrSampler ?? p.sampler,
    scheduler: values.text('hr_scheduler') ?? p.scheduler,
    upscalerIsLatent,
    checkpointName,
  };
}

function hiresTargetOf(values: RequestValues, p: Processing): HiresTarget {
  return hiresTarget(
    p.width,
    p.height,
    values.number('hr_scale') ?? 2,
    values.raw('hr_scale'),
    values.number('hr_resize_x') ?? 0,
    values.number('hr_resize_y') ?? 0,
  );
}

function hiresCheckpoint(values: RequestValues, p: Processing, context: SimContext): string | null {
  const name = values.text('hr_checkpoint_name');
  if (!name || name === 'Use same checkpoint') return null;
  const found = closestCheckpoint(context.models.checkpoints, name);
  if (!found) throw new PythonException('Exception', `Could not find checkpoint with name ${name}`);
  const shortHash = checkpointShortHash(found);
  const shortTitle = shortHash ? `${checkpointStem(found)} [${shortHash}]` : checkpointStem(found);
  p.extra.set('Hires checkpoint', shortTitle);
  return name;
}

function hiresModuleEntries(values: RequestValues, p: Processing): void {
  const modules = values.list('hr_additional_modules');
  if (modules === null) return;
  if (modules.length === 0) {
    p.extra.set('Hires Module 1', 'Built-in');
  } else if (modules.includes('Use same choices')) {
    p.extra.set('Hires Module 1', 'Use same choices');
  } else {
    modules.forEach((module, index) =>
      p.extra.set(`Hires Module ${index + 1}`, fileStem(String(module))),
    );
  }
}

/**
 * `get_hr_prompt`: a per-image value, the styled hires prompt when it differs from the image's
 * prompt and nothing otherwise. `info` prints it as null, as Forge prints the callable.
 */
function hiresPromptHook(
  values: RequestValues,
  p: Processing,
  field: 'hr_prompt' | 'hr_negative_prompt',
) {
  const own = values.text(field) ?? '';
  const prompts = field === 'hr_prompt' ? p.allPrompts : p.allNegativePrompts;
  return (index: number): string | null => {
    if (own === '') return null;
    const styled = applyStyles(
      field === 'hr_prompt' ? own : '',
      field === 'hr_prompt' ? '' : own,
      p.styles,
    );
    const text = field === 'hr_prompt' ? styled.prompt : styled.negativePrompt;
    return text !== (prompts[index] ?? '') ? text : null;
  };
}

function doubleJobCount(context: SimContext, nIter: number): void {
  const { state } = context;
  if (state.processingHasRefinedJobCount) return;
  if (state.jobCount === -1) state.jobCount = nIter;
  state.jobCount *= 2;
  state.processingHasRefinedJobCount = true;
}

/**
 * `StableDiffusionProcessingImg2Img.init`: the denoising and mask infotext keys, and the batch
 * rule (one image repeats, up to `batch_size` images lower it, more is an error).
 *
 * @throws PythonException RuntimeError `bad number of images passed`
 */
export function initImg2Img(values: RequestValues, p: Processing, initImageCount: number): void {
  p.extra.set('Denoising strength', p.denoisingStrength);
  if (values.text('mask')) maskEntries(values, p);
  if (initImageCount === 0) throw new PythonException('IndexError', 'list index out of range');
  if (initImageCount > 1 && initImageCount <= p.batchSize) {
    p.batchSize = initImageCount;
  } else if (initImageCount > p.batchSize) {
    const message = `bad number of images passed: ${initImageCount}; expecting ${p.batchSize} or less`;
    throw new PythonException('RuntimeError', message);
  }
}

function maskEntries(values: RequestValues, p: Processing): void {
  const blurX = values.number('mask_blur_x') ?? 4;
  const blurY = values.number('mask_blur_y') ?? 4;
  if (values.number('inpainting_mask_invert')) p.extra.set('Mask mode', 'Inpaint not masked');
  if (blurX > 0 || blurY > 0) p.extra.set('Mask blur', blurX === blurY ? blurX : null);
  if (values.flag('inpaint_full_res')) {
    p.extra.set('Inpaint area', 'Only masked');
    p.extra.set('Masked area padding', values.number('inpaint_full_res_padding') ?? 0);
  }
  if ((values.number('inpainting_fill') ?? 0) === 0) p.extra.set('Masked content', 'fill');
}

/** The LoRA extension's `activate`: `Lora hashes` for every known `<lora:name:...>`. */
export function activateLoras(
  values: RequestValues,
  options: OptionsStore,
  p: Processing,
  prompts: readonly string[],
): void {
  if (values.flag('disable_extra_networks')) return;
  if (!options.get('lora_add_hashes_to_infotext')) return;
  const hashes = new Map<string, string>();
  for (const prompt of prompts) {
    for (const match of prompt.matchAll(/<(\w+):([^>]+)>/g)) {
      if (match[1] !== 'lora') continue;
      const name = (match[2] ?? '').split(':')[0] ?? '';
      const lora = LORAS.find((entry) => entry.name === name || entry.alias === name);
      const hash = lora ? LORA_SHORT_HASHES[lora.name] : undefined;
      if (hash) hashes.set(name.replaceAll(':', '').replaceAll(',', ''), hash);
    }
  }
  if (hashes.size > 0) {
    p.extra.set('Lora hashes', [...hashes].map(([name, hash]) => `${name}: ${hash}`).join(', '));
  }
}

/** A numeric field that must not be None; throws the TypeError Python would. */
export function requireNumber<Value extends PyNumber>(value: Value | null, field: string): Value {
  if (value !== null) return value;
  if (field === 'n_iter') {
    throw new PythonException('TypeError', "'NoneType' object cannot be interpreted as an integer");
  }
  const message = `unsupported operand type(s) for *: 'NoneType' and 'int' (${field} is None)`;
  throw new PythonException('TypeError', message);
}
