/**
 * The scripts of the txt2img and img2img runners: the lists of `/sdapi/v1/scripts`, the controls
 * of `/sdapi/v1/script-info`, and which titles a request may name as `script_name` or under
 * `alwayson_scripts`.
 *
 * Most of this file is the table of script specs that mirrors Forge's runners.
 */
import { SAMPLERS, SCHEDULERS } from './samplers.js';

/** A generation tab, and the script runner behind it. */
export type GenerationMode = 'txt2img' | 'img2img';

/** One UI control of a script, as `/sdapi/v1/script-info` describes it. */
export interface ScriptArg {
  readonly label: string;
  readonly value: unknown;
  readonly minimum: number | null;
  readonly maximum: number | null;
  readonly step: number | null;
  readonly choices: readonly string[] | null;
}

/** One `/sdapi/v1/script-info` entry. */
export interface ScriptInfo {
  /** The lower-cased title. */
  readonly name: string;
  readonly is_alwayson: boolean;
  readonly is_img2img: boolean;
  readonly args: readonly ScriptArg[];
}

interface ScriptSpec {
  readonly title: string;
  readonly alwayson: boolean;
  readonly modes: readonly GenerationMode[];
  readonly args: readonly ScriptArg[];
}

const BOTH: readonly GenerationMode[] = ['txt2img', 'img2img'];
const IMG2IMG_ONLY: readonly GenerationMode[] = ['img2img'];

function slider(
  label: string,
  value: number,
  minimum: number,
  maximum: number,
  step: number,
): ScriptArg {
  return { label, value, minimum, maximum, step, choices: null };
}

function control(
  label: string,
  value: unknown,
  choices: readonly string[] | null = null,
): ScriptArg {
  return { label, value, minimum: null, maximum: null, step: null, choices };
}

function selectable(
  title: string,
  modes: readonly GenerationMode[],
  args: readonly ScriptArg[],
): ScriptSpec {
  return { title, alwayson: false, modes, args };
}

function alwaysOn(
  title: string,
  modes: readonly GenerationMode[],
  args: readonly ScriptArg[],
): ScriptSpec {
  return { title, alwayson: true, modes, args };
}

const AXIS_TYPES = [
  'Nothing',
  'Seed',
  'Steps',
  'CFG Scale',
  'Prompt S/R',
  'Sampler',
  'Checkpoint name',
];

// Runner order: the main scripts folder, then built-in extensions alphabetically, then the
// processing scripts. Argument lists are the leading controls of each script's UI; ControlNet
// and X/Y/Z plot have many more in Forge.
const SCRIPT_SPECS: readonly ScriptSpec[] = [
  selectable('img2img alternative test', IMG2IMG_ONLY, [
    control('Override `Sampling method` to Euler?(this method is built for it)', true),
    control('Original prompt', ''),
    control('Original negative prompt', ''),
    slider('Decode steps', 50, 1, 150, 1),
  ]),
  selectable('Loopback', IMG2IMG_ONLY, [
    slider('Loops', 4, 1, 32, 1),
    slider('Final denoising strength', 0.5, 0, 1, 0.01),
    control('Denoising strength curve', 'Linear', ['Aggressive', 'Linear', 'Lazy']),
    control('Append interrogated prompt at each iteration', 'None', ['None', 'CLIP', 'DeepBooru']),
  ]),
  selectable('Outpainting mk2', IMG2IMG_ONLY, [
    slider('Pixels to expand', 128, 8, 256, 8),
    slider('Mask blur', 8, 0, 64, 1),
    control(
      'Outpainting direction',
      ['left', 'right', 'up', 'down'],
      ['left', 'right', 'up', 'down'],
    ),
  ]),
  selectable("Poor man's outpainting", IMG2IMG_ONLY, [
    slider('Pixels to expand', 128, 8, 256, 8),
    slider('Mask blur', 4, 0, 64, 1),
    control('Masked content', 'fill', ['fill', 'original', 'latent noise', 'latent nothing']),
  ]),
  selectable('Prompt matrix', BOTH, [
    control('Put variable parts at start of prompt', false),
    control('Use different seed for each picture', false),
    control('Select prompt', 'positive', ['positive', 'negative']),
    control('Select joining char', 'comma', ['comma', 'space']),
    slider('Grid margins (px)', 0, 0, 500, 2),
  ]),
  selectable('Prompts from file or textbox', BOTH, [
    control('Iterate seed every line', false),
    control('Use same random seed for all lines', false),
    control('Insert prompts at the', 'start', ['start', 'end']),
    control('Make a combined image containing all outputs (if more than one)', false),
    control('List of prompt inputs', ''),
  ]),
  selectable('SD upscale', IMG2IMG_ONLY, [
    slider('Tile overlap', 64, 0, 256, 16),
    slider('Scale Factor', 2, 1, 4, 0.05),
    control('Upscaler', 'None', ['None', 'Lanczos', 'Nearest', 'ESRGAN_4x', 'R-ESRGAN 4x+']),
  ]),
  selectable('X/Y/Z plot', BOTH, [
    control('X type', 'Seed', AXIS_TYPES),
    control('X values', ''),
    control('Y type', 'Nothing', AXIS_TYPES),
    control('Y values', ''),
    control('Z type', 'Nothing', AXIS_TYPES),
    control('Z values', ''),
    control('Draw legend', true),
    control('Keep -1 for seeds', false),
  ]),
  { title: 'Extra options', alwayson: true, modes: BOTH, args: [] },
  alwaysOn('ControlNet', BOTH, [
    control('Enable', false),
    control('Control Type', 'All', ['All', 'Canny', 'Depth', 'OpenPose', 'Tile', 'IP-Adapter']),
    control('Preprocessor', 'None', null),
    control('Model', 'None', null),
    slider('Control Weight', 1, 0, 2, 0.05),
  ]),
  alwaysOn('DynamicThresholding (CFG-Fix) Integrated', BOTH, [
    control('Enabled', false),
    slider('Mimic CFG Scale', 7, 1, 30, 0.5),
    slider('Top percentile of latents to clamp', 1, 0.9, 1, 0.001),
  ]),
  alwaysOn('FreeU Integrated (SD 1.x, SD 2.x, SDXL)', BOTH, [
    control('Enabled', false),
    slider('B1', 1.01, 0, 2, 0.01),
    slider('B2', 1.02, 0, 2, 0.01),
    slider('S1', 0.99, 0, 4, 0.01),
    slider('S2', 0.95, 0, 4, 0.01),
    slider('Start step', 0, 0, 1, 0.01),
    slider('End step', 1, 0, 1, 0.01),
  ]),
  alwaysOn('Kohya HRFix Integrated', BOTH, [
    control('Enabled', false),
    slider('Block Number', 3, 1, 32, 1),
    slider('Downscale Factor', 2, 0.1, 9, 0.001),
    slider('Start Percent', 0, 0, 1, 0.001),
    slider('End Percent', 0.35, 0, 1, 0.001),
    control('Downscale After Skip', true),
  ]),
  alwaysOn('LatentModifier Integrated', BOTH, [
    control('Enabled', false),
    slider('sharpness_multiplier', 0, -100, 100, 0.1),
  ]),
  alwaysOn('MultiDiffusion Integrated', BOTH, [
    control('Enabled', false),
    control('Method', 'MultiDiffusion', ['MultiDiffusion', 'Mixture of Diffusers']),
    slider('Tile Width', 768, 16, 8192, 16),
    slider('Tile Height', 768, 16, 8192, 16),
    slider('Tile Overlap', 64, 0, 2048, 32),
    slider('Tile Batch Size', 4, 1, 8192, 1),
  ]),
  alwaysOn('Never OOM Integrated', BOTH, [
    control('Enabled for UNet (always maximize offload)', false),
    control('Enabled for VAE (always tiled)', false),
  ]),
  alwaysOn('PerturbedAttentionGuidance Integrated', BOTH, [
    control('Enabled', false),
    slider('Scale', 3, 0, 100, 0.1),
    slider('Attenuation (linear, % of scale)', 0, 0, 100, 0.1),
    slider('Start step', 0, 0, 1, 0.01),
    slider('End step', 1, 0, 1, 0.01),
  ]),
  alwaysOn('SelfAttentionGuidance Integrated (SD 1.x, SD 2.x, SDXL)', BOTH, [
    control('Enabled', false),
    slider('Scale', 0.5, -2, 5, 0.01),
    slider('Blur Sigma', 2, 0, 10, 0.01),
    slider('Blur mask threshold', 1, 0, 4, 0.01),
  ]),
  alwaysOn('StyleAlign Integrated', BOTH, [
    control('Share attention in batch', false),
    slider('Strength', 1, 0, 1, 0.01),
  ]),
  alwaysOn('Soft Inpainting', IMG2IMG_ONLY, [
    control('Soft inpainting', false),
    slider('Schedule bias', 1, 0, 8, 0.1),
    slider('Preservation strength', 0.5, 0, 8, 0.05),
    slider('Transition contrast boost', 4, 1, 32, 0.5),
  ]),
  alwaysOn('Refiner', BOTH, [
    control('Refiner', false),
    control('Checkpoint', '', null),
    slider('Switch at', 0.8, 0.01, 1, 0.01),
  ]),
  alwaysOn('Sampler', BOTH, [
    slider('Sampling steps', 20, 1, 150, 1),
    control(
      'Sampling method',
      'DPM++ 2M',
      SAMPLERS.map((sampler) => sampler.name),
    ),
    control(
      'Schedule type',
      'Automatic',
      SCHEDULERS.map((entry) => entry.label),
    ),
  ]),
  alwaysOn('Seed', BOTH, [
    control('Seed', -1),
    control('Extra', false),
    control('Variation seed', -1),
    slider('Variation strength', 0, 0, 1, 0.01),
    slider('Resize seed from width', 0, 0, 2048, 8),
    slider('Resize seed from height', 0, 0, 2048, 8),
  ]),
];

function titlesFor(mode: GenerationMode, filter: (spec: ScriptSpec) => boolean): string[] {
  return SCRIPT_SPECS.filter((spec) => spec.modes.includes(mode) && filter(spec)).map(
    (spec) => spec.title,
  );
}

/** `/sdapi/v1/scripts`: every script of each runner by lower-cased title, in runner order. */
export const SCRIPTS: { readonly txt2img: readonly string[]; readonly img2img: readonly string[] } =
  {
    txt2img: titlesFor('txt2img', () => true).map((title) => title.toLowerCase()),
    img2img: titlesFor('img2img', () => true).map((title) => title.toLowerCase()),
  };

/** Titles (original case) usable under `alwayson_scripts`, per runner. */
export const ALWAYSON_SCRIPT_TITLES: Readonly<Record<GenerationMode, readonly string[]>> = {
  txt2img: titlesFor('txt2img', (spec) => spec.alwayson),
  img2img: titlesFor('img2img', (spec) => spec.alwayson),
};

/** Titles (original case) usable as `script_name`, per runner. */
export const SELECTABLE_SCRIPT_TITLES: Readonly<Record<GenerationMode, readonly string[]>> = {
  txt2img: titlesFor('txt2img', (spec) => !spec.alwayson),
  img2img: titlesFor('img2img', (spec) => !spec.alwayson),
};

/** `/sdapi/v1/script-info`: the txt2img runner's scripts, then the img2img runner's. */
export const SCRIPT_INFO: readonly ScriptInfo[] = (['txt2img', 'img2img'] as const).flatMap(
  (mode) =>
    SCRIPT_SPECS.filter((spec) => spec.modes.includes(mode)).map((spec) => ({
      name: spec.title.toLowerCase(),
      is_alwayson: spec.alwayson,
      is_img2img: mode === 'img2img',
      args: spec.args,
    })),
);
