/**
 * What a real Forge install reports: samplers, schedulers, checkpoints, modules, upscalers,
 * LoRAs, styles, scripts, command-line flags, memory and the full options dictionary
 * (forge-api.md §3, §4.5 and §7), plus the rules Forge applies to them (sampler and scheduler
 * resolution, checkpoint aliases, prompt styles).
 *
 * This file is long because most of it is data tables that mirror Forge's own registries; the
 * logic between them stays in short functions.
 */
import { freemem, totalmem } from 'node:os';

import { pyFloat, pyStrip } from './python-format.js';
import type { PyNumber } from './python-format.js';

/** The version Forge reports in infotexts and `info.version`: `"f" + version + "-" + git describe`. */
export const FORGE_VERSION = 'f2.0.1v1.10.1-previous-669-gdfdcbab6';

/** The install folder the simulator pretends to live in. */
export const FORGE_ROOT = '/opt/forge';

/** The folder checkpoint file names are relative to. */
export const CHECKPOINT_DIR = `${FORGE_ROOT}/models/Stable-diffusion`;

// ---------------------------------------------------------------------------------------------
// Samplers and schedulers (§7)
// ---------------------------------------------------------------------------------------------

/** One `/sdapi/v1/samplers` entry. Flag options are `true`, as in Forge's JSON. */
export interface SamplerInfo {
  /** Display name, e.g. `DPM++ 2M`. */
  readonly name: string;
  /** Alternative names, e.g. `k_dpmpp_2m`. */
  readonly aliases: readonly string[];
  /** Sampler options: `scheduler` (its default scheduler's name) and flags such as `second_order`. */
  readonly options: Readonly<Record<string, string | boolean>>;
}

/** Every sampler in `/sdapi/v1/samplers` order; the first one is the fallback for unknown names. */
export const SAMPLERS: readonly SamplerInfo[] = [
  { name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], options: { scheduler: 'karras' } },
  {
    name: 'DPM++ SDE',
    aliases: ['k_dpmpp_sde'],
    options: { scheduler: 'karras', second_order: true, brownian_noise: true },
  },
  {
    name: 'DPM++ 2M SDE',
    aliases: ['k_dpmpp_2m_sde'],
    options: { scheduler: 'exponential', brownian_noise: true },
  },
  {
    name: 'DPM++ 2M SDE Heun',
    aliases: ['k_dpmpp_2m_sde_heun'],
    options: { scheduler: 'exponential', brownian_noise: true, solver_type: 'heun' },
  },
  {
    name: 'DPM++ 2S a',
    aliases: ['k_dpmpp_2s_a'],
    options: { scheduler: 'karras', uses_ensd: true, second_order: true },
  },
  {
    name: 'DPM++ 3M SDE',
    aliases: ['k_dpmpp_3m_sde'],
    options: { scheduler: 'exponential', discard_next_to_last_sigma: true, brownian_noise: true },
  },
  { name: 'Euler a', aliases: ['k_euler_a', 'k_euler_ancestral'], options: { uses_ensd: true } },
  { name: 'Euler', aliases: ['k_euler'], options: {} },
  { name: 'LMS', aliases: ['k_lms'], options: {} },
  { name: 'Heun', aliases: ['k_heun'], options: { second_order: true } },
  {
    name: 'DPM2',
    aliases: ['k_dpm_2'],
    options: { scheduler: 'karras', discard_next_to_last_sigma: true, second_order: true },
  },
  {
    name: 'DPM2 a',
    aliases: ['k_dpm_2_a'],
    options: {
      scheduler: 'karras',
      discard_next_to_last_sigma: true,
      uses_ensd: true,
      second_order: true,
    },
  },
  { name: 'DPM fast', aliases: ['k_dpm_fast'], options: { uses_ensd: true } },
  { name: 'DPM adaptive', aliases: ['k_dpm_ad'], options: { uses_ensd: true } },
  { name: 'Restart', aliases: ['restart'], options: { scheduler: 'karras', second_order: true } },
  { name: 'HeunPP2', aliases: ['heunpp2'], options: {} },
  { name: 'IPNDM', aliases: ['ipndm'], options: {} },
  { name: 'IPNDM_V', aliases: ['ipndm_v'], options: {} },
  { name: 'DEIS', aliases: ['deis'], options: {} },
  { name: 'DDIM', aliases: ['ddim'], options: {} },
  { name: 'DDIM CFG++', aliases: ['ddim_cfgpp'], options: {} },
  { name: 'PLMS', aliases: ['plms'], options: {} },
  { name: 'UniPC', aliases: ['unipc'], options: {} },
  { name: 'LCM', aliases: ['k_lcm'], options: {} },
  { name: 'DDPM', aliases: ['ddpm'], options: {} },
];

// These four run on timesteps, not sigmas: they never consult the scheduler, so their infotext
// keeps whatever `Schedule type` the request stored.
const TIMESTEP_SAMPLERS: ReadonlySet<string> = new Set(['DDIM', 'DDIM CFG++', 'PLMS', 'UniPC']);

/** One `/sdapi/v1/schedulers` entry, with Forge's snake_case field names. */
export interface SchedulerInfo {
  /** Internal name, e.g. `karras`. */
  readonly name: string;
  /** Display label, e.g. `Karras`; this is what infotexts show. */
  readonly label: string;
  /** Extra names; `null` except for SGM Uniform. */
  readonly aliases: readonly string[] | null;
  /** The schedule's default rho, or -1 (an int in Forge) when it has none. */
  readonly default_rho: PyNumber;
  /** Whether the schedule needs the model's own sigmas. */
  readonly need_inner_model: boolean;
}

function scheduler(
  name: string,
  label: string,
  extra: Partial<Pick<SchedulerInfo, 'aliases' | 'default_rho' | 'need_inner_model'>> = {},
): SchedulerInfo {
  return { name, label, aliases: null, default_rho: -1, need_inner_model: false, ...extra };
}

/** Every scheduler in `/sdapi/v1/schedulers` order; the first one, Automatic, is the fallback. */
export const SCHEDULERS: readonly SchedulerInfo[] = [
  scheduler('automatic', 'Automatic'),
  scheduler('uniform', 'Uniform', { need_inner_model: true }),
  scheduler('karras', 'Karras', { default_rho: pyFloat(7) }),
  scheduler('exponential', 'Exponential'),
  scheduler('polyexponential', 'Polyexponential', { default_rho: pyFloat(1) }),
  scheduler('sgm_uniform', 'SGM Uniform', { need_inner_model: true, aliases: ['SGMUniform'] }),
  scheduler('kl_optimal', 'KL Optimal'),
  scheduler('align_your_steps', 'Align Your Steps'),
  scheduler('simple', 'Simple', { need_inner_model: true }),
  scheduler('normal', 'Normal', { need_inner_model: true }),
  scheduler('ddim', 'DDIM', { need_inner_model: true }),
  scheduler('beta', 'Beta', { need_inner_model: true }),
  scheduler('turbo', 'Turbo', { need_inner_model: true }),
  scheduler('align_your_steps_GITS', 'Align Your Steps GITS'),
  scheduler('align_your_steps_11', 'Align Your Steps 11'),
  scheduler('align_your_steps_32', 'Align Your Steps 32'),
];

const DEFAULT_SAMPLER = SAMPLERS[0] as SamplerInfo;
const AUTOMATIC = SCHEDULERS[0] as SchedulerInfo;
const SAMPLER_BY_NAME = new Map(SAMPLERS.map((sampler) => [sampler.name, sampler]));
// Forge's schedulers_map: names and labels, case-sensitive; aliases are not keys.
const SCHEDULER_BY_KEY = new Map<string, SchedulerInfo>([
  ...SCHEDULERS.map((entry) => [entry.name, entry] as const),
  ...SCHEDULERS.map((entry) => [entry.label, entry] as const),
]);

/** The sampler and scheduler label a generation ends up with. */
export interface ResolvedSampler {
  /** The sampler name, always one of {@link SAMPLERS}. */
  readonly sampler: string;
  /** The scheduler label, e.g. `Automatic` or `Karras`. */
  readonly scheduler: string;
}

/**
 * Resolves the sampler and scheduler of an API request the way Forge's txt2img/img2img handlers
 * and `process_images` together do (`sd_samplers.get_sampler_and_scheduler`, twice):
 *
 * 1. A legacy suffix naming a scheduler (`DPM++ 2M Karras`, `Euler a karras`) is split off and
 *    becomes the scheduler.
 * 2. The sampler must match a name exactly (case-sensitive); anything else, including aliases
 *    such as `k_euler`, silently becomes `DPM++ 2M`. An empty or missing name also gives
 *    `DPM++ 2M`, so pass `sampler_name || sampler_index` (the API's `sampler_index` defaults to
 *    `Euler`).
 * 3. A scheduler given by name or label resolves to its label; unknown ones become Automatic.
 * 4. A scheduler that only came from a legacy suffix and equals the sampler's default scheduler
 *    is stored as Automatic; one the request named explicitly is kept.
 *
 * @example
 * resolveSamplerAndScheduler('DPM++ 2M Karras', null); // { sampler: 'DPM++ 2M', scheduler: 'Automatic' }
 * resolveSamplerAndScheduler('Euler', 'simple'); // { sampler: 'Euler', scheduler: 'Simple' }
 */
export function resolveSamplerAndScheduler(
  sampler: string | null | undefined,
  scheduler: string | null | undefined,
): ResolvedSampler {
  const handler = samplerAndScheduler(sampler, scheduler, true);
  // The handler copies its result into the request only when the request named no scheduler.
  const stored = scheduler
    ? scheduler
    : handler.scheduler !== 'Automatic'
      ? handler.scheduler
      : null;
  return samplerAndScheduler(handler.sampler, stored, false);
}

function samplerAndScheduler(
  samplerName: string | null | undefined,
  schedulerName: string | null | undefined,
  convertAutomatic: boolean,
): ResolvedSampler {
  let found = SCHEDULER_BY_KEY.get(schedulerName ?? '') ?? AUTOMATIC;
  let name = samplerName || DEFAULT_SAMPLER.name;
  for (const entry of SCHEDULERS) {
    const suffix = [entry.label, entry.name, ...(entry.aliases ?? [])].find((option) =>
      name.endsWith(` ${option}`),
    );
    if (suffix === undefined) continue;
    found = entry;
    name = name.slice(0, -(suffix.length + 1));
  }

  const samplerInfo = SAMPLER_BY_NAME.get(name) ?? DEFAULT_SAMPLER;
  if (convertAutomatic && samplerInfo.options['scheduler'] === found.name) found = AUTOMATIC;
  return { sampler: samplerInfo.name, scheduler: found.label };
}

/**
 * The `Schedule type` an infotext shows for a resolved sampler and scheduler (§8.2): sigma-based
 * samplers replace Automatic by their default scheduler's label (`DPM++ 2M` shows `Karras`,
 * `Euler a` keeps `Automatic`); DDIM, DDIM CFG++, PLMS and UniPC show the stored value as is.
 *
 * @example
 * scheduleTypeForInfotext('DPM++ 2M', 'Automatic'); // 'Karras'
 */
export function scheduleTypeForInfotext(sampler: string, scheduler: string): string {
  return extraScheduleType(sampler, scheduler) ?? scheduler;
}

/**
 * The `Schedule type` value Forge adds to `extra_generation_params` (and so to
 * `info.extra_generation_params`) during the first pass, or `null` when it adds none: only
 * sigma-based samplers add it, and only when the schedule resolves to something other than
 * Automatic.
 */
export function extraScheduleType(sampler: string, scheduler: string): string | null {
  if (TIMESTEP_SAMPLERS.has(sampler)) return null;
  const wanted =
    scheduler === 'Automatic' ? SAMPLER_BY_NAME.get(sampler)?.options['scheduler'] : scheduler;
  const resolved = typeof wanted === 'string' ? SCHEDULER_BY_KEY.get(wanted) : undefined;
  if (!resolved || resolved === AUTOMATIC) return null;
  return resolved.label;
}

/**
 * Finds a sampler by name or alias, ignoring case, as Forge's `samplers_map` does for the
 * X/Y/Z plot and prompts-from-file scripts. The txt2img/img2img handlers do NOT accept aliases;
 * use {@link resolveSamplerAndScheduler} for them.
 */
export function findSamplerByNameOrAlias(name: string): SamplerInfo | undefined {
  const wanted = name.toLowerCase();
  return SAMPLERS.find(
    (sampler) =>
      sampler.name.toLowerCase() === wanted ||
      sampler.aliases.some((alias) => alias.toLowerCase() === wanted),
  );
}

// ---------------------------------------------------------------------------------------------
// Checkpoints (§4.5, §7)
// ---------------------------------------------------------------------------------------------

/** The model architectures the simulator knows; Flux uses distilled CFG. */
export type ModelFamily = 'sd15' | 'sdxl' | 'flux';

/** A checkpoint file as the simulator's fake install holds it. */
export interface CheckpointRecord {
  /** Path relative to {@link CHECKPOINT_DIR}, with `/` separators, e.g. `anime/x.safetensors`. */
  readonly name: string;
  /** The full SHA-256 Forge computes the first time it loads the file (64 lower-case hex). */
  readonly sha256: string;
  /** Whether the SHA-256 is already known; unhashed files list `hash: null` and a bare title. */
  readonly hashed: boolean;
  /** The legacy 8-hex "model hash" of a slice of the file; still accepted as an alias. */
  readonly legacyHash: string;
  /** The architecture, which decides defaults such as distilled CFG. */
  readonly family: ModelFamily;
}

/**
 * The fake install's checkpoints: an SD 1.5, an SD 1.5 fine-tune in a sub-folder, an SDXL and a
 * never-loaded (so unhashed) Flux dev NF4. The SD 1.5 and SDXL hashes are those of the public
 * files; the other two are invented.
 */
export const DEFAULT_CHECKPOINTS: readonly CheckpointRecord[] = [
  {
    name: 'v1-5-pruned-emaonly.safetensors',
    sha256: '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa',
    hashed: true,
    legacyHash: 'bf7ee999',
    family: 'sd15',
  },
  {
    name: 'sd_xl_base_1.0.safetensors',
    sha256: '31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b',
    hashed: true,
    legacyHash: '6d2c230c',
    family: 'sdxl',
  },
  {
    name: 'flux1-dev-bnb-nf4-v2.safetensors',
    sha256: '65dd5cd173442d70308b4b6bf84430731525307d2d18e40b41656de9342c0453',
    hashed: false,
    legacyHash: '1e14d478',
    family: 'flux',
  },
  {
    name: 'anime/counterfeitV30_v30.safetensors',
    sha256: 'bcaf256a67c7ee0680065c59ca424d5887f547ae8c0efa31b2b6c6eed0c3e529',
    hashed: true,
    legacyHash: 'd86a01ab',
    family: 'sd15',
  },
];

/** One `/sdapi/v1/sd-models` entry. */
export interface CheckpointListing {
  readonly title: string;
  readonly model_name: string;
  readonly hash: string | null;
  readonly sha256: string | null;
  readonly filename: string;
  readonly config: null;
}

/**
 * Python's `os.path.splitext(os.path.basename(path))[0]`: the file name without folders and
 * without its last extension (leading dots do not start an extension).
 */
export function fileStem(path: string): string {
  const base = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  return stripExtension(base);
}

function stripExtension(path: string): string {
  const start = path.lastIndexOf('/') + 1;
  const dot = path.lastIndexOf('.');
  if (dot <= start || /^\.*$/.test(path.slice(start, dot))) return path;
  return path.slice(0, dot);
}

/** The 10-hex short hash, or `null` while the file is not hashed. */
export function checkpointShortHash(checkpoint: CheckpointRecord): string | null {
  return checkpoint.hashed ? checkpoint.sha256.slice(0, 10) : null;
}

/** `"<name> [<short hash>]"`, or the bare name while the file is not hashed. */
export function checkpointTitle(checkpoint: CheckpointRecord): string {
  const shortHash = checkpointShortHash(checkpoint);
  return shortHash === null ? checkpoint.name : `${checkpoint.name} [${shortHash}]`;
}

/** The `model_name`: the relative path without extension, with `/` replaced by `_`. */
export function checkpointModelName(checkpoint: CheckpointRecord): string {
  return stripExtension(checkpoint.name.replaceAll('/', '_').replaceAll('\\', '_'));
}

/** The stem of the file name, which infotexts show as `Model` (`name_for_extra` in Forge). */
export function checkpointStem(checkpoint: CheckpointRecord): string {
  return fileStem(checkpoint.name);
}

/** The absolute file name under {@link CHECKPOINT_DIR}. */
export function checkpointFilename(checkpoint: CheckpointRecord): string {
  return `${CHECKPOINT_DIR}/${checkpoint.name}`;
}

/** The `/sdapi/v1/sd-models` response for a set of checkpoints, in the given order. */
export function checkpointListing(models: readonly CheckpointRecord[]): CheckpointListing[] {
  return models.map((checkpoint) => ({
    title: checkpointTitle(checkpoint),
    model_name: checkpointModelName(checkpoint),
    hash: checkpointShortHash(checkpoint),
    sha256: checkpoint.hashed ? checkpoint.sha256 : null,
    filename: checkpointFilename(checkpoint),
    config: null,
  }));
}

/**
 * Every string Forge accepts for a checkpoint (`CheckpointInfo.ids`): legacy hash, model name,
 * title, name, file stem and `name [legacy hash]`, plus, once hashed, the short hash, the full
 * SHA-256, `name [short hash]` and `stem [short hash]`.
 */
export function checkpointAliases(checkpoint: CheckpointRecord): string[] {
  const { name, legacyHash } = checkpoint;
  const stem = checkpointStem(checkpoint);
  const aliases = [
    legacyHash,
    checkpointModelName(checkpoint),
    checkpointTitle(checkpoint),
    name,
    stem,
    `${name} [${legacyHash}]`,
  ];
  const shortHash = checkpointShortHash(checkpoint);
  if (shortHash === null) return aliases;
  return [
    ...aliases,
    shortHash,
    checkpoint.sha256,
    `${name} [${shortHash}]`,
    `${stem} [${shortHash}]`,
  ];
}

/**
 * The checkpoint an exact alias names (Forge's `checkpoint_aliases` lookup, used by
 * `POST /sdapi/v1/options`), or `undefined`. When two files share an alias the later one wins,
 * as in Forge's dictionary.
 */
export function findCheckpoint(
  models: readonly CheckpointRecord[],
  alias: string,
): CheckpointRecord | undefined {
  for (let index = models.length - 1; index >= 0; index--) {
    const checkpoint = models[index];
    if (checkpoint && checkpointAliases(checkpoint).includes(alias)) return checkpoint;
  }
  return undefined;
}

/**
 * Forge's looser `get_closet_checkpoint_match`: an exact alias first, then the shortest title
 * containing the text, then the same with a trailing `[hash]` removed.
 */
export function closestCheckpoint(
  models: readonly CheckpointRecord[],
  search: string,
): CheckpointRecord | undefined {
  if (!search) return undefined;
  const exact = findCheckpoint(models, search);
  if (exact) return exact;
  return (
    shortestTitleContaining(models, search) ??
    shortestTitleContaining(models, search.replace(/\s*\[[^\]]+]\s*$/, ''))
  );
}

function shortestTitleContaining(
  models: readonly CheckpointRecord[],
  text: string,
): CheckpointRecord | undefined {
  const matches = models.filter((checkpoint) => checkpointTitle(checkpoint).includes(text));
  matches.sort((left, right) => checkpointTitle(left).length - checkpointTitle(right).length);
  return matches[0];
}

// ---------------------------------------------------------------------------------------------
// Modules, upscalers, LoRAs
// ---------------------------------------------------------------------------------------------

/** One `/sdapi/v1/sd-modules` entry: a VAE or text-encoder file. */
export interface ModuleInfo {
  /** The file name, which `forge_additional_modules` accepts. */
  readonly model_name: string;
  /** The absolute path, which `forge_additional_modules` stores. */
  readonly filename: string;
}

/** The VAE and text-encoder files of the fake install (`models/VAE`, `models/text_encoder`). */
export const MODULES: readonly ModuleInfo[] = [
  { model_name: 'ae.safetensors', filename: `${FORGE_ROOT}/models/VAE/ae.safetensors` },
  {
    model_name: 'clip_l.safetensors',
    filename: `${FORGE_ROOT}/models/text_encoder/clip_l.safetensors`,
  },
  {
    model_name: 't5xxl_fp16.safetensors',
    filename: `${FORGE_ROOT}/models/text_encoder/t5xxl_fp16.safetensors`,
  },
  {
    model_name: 't5xxl_fp8_e4m3fn.safetensors',
    filename: `${FORGE_ROOT}/models/text_encoder/t5xxl_fp8_e4m3fn.safetensors`,
  },
];

/** One `/sdapi/v1/upscalers` entry. */
export interface UpscalerInfo {
  readonly name: string;
  readonly model_name: string | null;
  readonly model_path: string | null;
  readonly model_url: null;
  readonly scale: number | null;
}

function upscaler(
  name: string,
  modelPath: string | null,
  scale: number,
  modelName: string | null = null,
): UpscalerInfo {
  return { name, model_name: modelName, model_path: modelPath, model_url: null, scale };
}

/** The upscalers of the fake install; models not yet downloaded list their download URL. */
export const UPSCALERS: readonly UpscalerInfo[] = [
  upscaler('None', null, 4),
  upscaler('Lanczos', null, 4),
  upscaler('Nearest', null, 4),
  upscaler(
    'ESRGAN_4x',
    'https://github.com/cszn/KAIR/releases/download/v1.0/ESRGAN.pth',
    4,
    'ESRGAN_4x',
  ),
  upscaler(
    'R-ESRGAN 4x+',
    'https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth',
    4,
  ),
  upscaler(
    'R-ESRGAN 4x+ Anime6B',
    'https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.2.4/RealESRGAN_x4plus_anime_6B.pth',
    4,
  ),
  upscaler(
    'DAT x2',
    'https://huggingface.co/w-e-w/DAT/resolve/main/experiments/pretrained_models/DAT/DAT_x2.pth',
    2,
  ),
  upscaler(
    'ScuNET GAN',
    'https://github.com/cszn/KAIR/releases/download/v1.0/scunet_color_real_gan.pth',
    4,
    'ScuNET GAN',
  ),
  upscaler(
    'SwinIR 4x',
    'https://github.com/JingyunLiang/SwinIR/releases/download/v0.0/003_realSR_BSRGAN_DFOWMFC_s64w8_SwinIR-L_x4_GAN.pth',
    4,
    'SwinIR 4x',
  ),
];

/** The six latent upscale modes of `/sdapi/v1/latent-upscale-modes` (and valid `hr_upscaler`s). */
export const LATENT_UPSCALE_MODES: readonly { readonly name: string }[] = [
  { name: 'Latent' },
  { name: 'Latent (antialiased)' },
  { name: 'Latent (bicubic)' },
  { name: 'Latent (bicubic antialiased)' },
  { name: 'Latent (nearest)' },
  { name: 'Latent (nearest-exact)' },
];

/** One `/sdapi/v1/loras` entry. */
export interface LoraInfo {
  /** The file stem, used in `<lora:name:weight>`. */
  readonly name: string;
  /** `ss_output_name` from the metadata, or the name. */
  readonly alias: string;
  /** The absolute path. */
  readonly path: string;
  /** The safetensors metadata (all values are strings, as kohya-ss writes them). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** The LoRAs of the fake install. */
export const LORAS: readonly LoraInfo[] = [
  {
    name: 'add_detail',
    alias: 'add_detail',
    path: `${FORGE_ROOT}/models/Lora/add_detail.safetensors`,
    metadata: {
      ss_base_model_version: 'sd_v1',
      ss_network_module: 'networks.lora',
      ss_network_dim: '32',
      ss_network_alpha: '16.0',
      ss_output_name: 'add_detail',
      ss_resolution: '(512, 512)',
    },
  },
  {
    name: 'pixel-art-xl',
    alias: 'pixel-art-xl-v1.1',
    path: `${FORGE_ROOT}/models/Lora/sdxl/pixel-art-xl.safetensors`,
    metadata: {
      ss_base_model_version: 'sdxl_base_v1-0',
      ss_network_module: 'networks.lora',
      ss_network_dim: '64',
      ss_network_alpha: '32.0',
      ss_output_name: 'pixel-art-xl-v1.1',
      ss_resolution: '(1024, 1024)',
    },
  },
  {
    name: 'flux-realism',
    alias: 'flux-realism',
    path: `${FORGE_ROOT}/models/Lora/flux/flux-realism.safetensors`,
    metadata: {},
  },
];

/** The 12-hex short hashes (`sha256[:12]`) infotexts list under `Lora hashes`, by LoRA name. */
export const LORA_SHORT_HASHES: Readonly<Record<string, string>> = {
  add_detail: '393fd22c0661',
  'pixel-art-xl': '41334a91c774',
  'flux-realism': '09d3376e65fd',
};

// ---------------------------------------------------------------------------------------------
// Prompt styles (styles.csv)
// ---------------------------------------------------------------------------------------------

/** One `/sdapi/v1/prompt-styles` entry, as a row of styles.csv. */
export interface PromptStyle {
  readonly name: string;
  /** Text with an optional `{prompt}` placeholder; without one it is appended after `, `. */
  readonly prompt: string;
  /** Same rule for the negative prompt. */
  readonly negative_prompt: string;
}

/** The fake install's styles.csv. */
export const PROMPT_STYLES: readonly PromptStyle[] = [
  {
    name: 'Cinematic',
    prompt: 'cinematic still of {prompt}, shallow depth of field, film grain, highly detailed',
    negative_prompt: 'cartoon, illustration, anime, painting, lowres',
  },
  {
    name: 'Photorealistic',
    prompt: 'RAW photo of {prompt}, 8k uhd, dslr, soft lighting, high quality',
    negative_prompt: 'drawing, painting, sketch, noisy, blurry',
  },
  {
    name: 'Anime',
    prompt: 'anime artwork of {prompt}, key visual, vibrant, studio anime, highly detailed',
    negative_prompt: 'photo, deformed, black and white, realism, disfigured, low contrast',
  },
];

/**
 * Removes prompt comments as Forge does with `enable_prompt_comments` on (the default): a whole
 * line starting with `#`, and anything from a `#` to the end of its line.
 */
export function stripPromptComments(text: string): string {
  return text.replace(/(^|\n)#[^\n]*(\n|$)/g, '\n').replace(/#[^\n]*(\n|$)/g, '\n');
}

function applyStyleTexts(prompt: string, styleTexts: readonly string[]): string {
  let result = pyStrip(stripPromptComments(prompt));
  for (const raw of styleTexts) {
    const style = pyStrip(stripPromptComments(raw));
    if (style.includes('{prompt}')) {
      result = style.replaceAll('{prompt}', result);
    } else if (style !== '') {
      result = result === '' ? style : `${result}, ${style}`;
    }
  }
  return result;
}

/**
 * Applies named styles to a prompt pair as Forge does for every generation (even with no
 * styles, the prompts lose their comments and surrounding whitespace). Unknown names are
 * ignored, as Forge ignores them.
 *
 * @example
 * applyStyles('a cat', '', ['Cinematic']).prompt;
 * // 'cinematic still of a cat, shallow depth of field, film grain, highly detailed'
 */
export function applyStyles(
  prompt: string,
  negativePrompt: string,
  styleNames: readonly string[],
  styles: readonly PromptStyle[] = PROMPT_STYLES,
): { prompt: string; negativePrompt: string } {
  const chosen = styleNames.map((name) => styles.find((style) => style.name === name));
  return {
    prompt: applyStyleTexts(
      prompt,
      chosen.map((style) => style?.prompt ?? ''),
    ),
    negativePrompt: applyStyleTexts(
      negativePrompt,
      chosen.map((style) => style?.negative_prompt ?? ''),
    ),
  };
}

/**
 * Forge's `extract_styles_from_prompt`, which png-info uses: repeatedly finds a style whose
 * prompt and negative prompt both wrap or end the given texts, removes it, and returns the
 * styles found (in application order) with the remaining texts.
 */
export function extractStylesFromPrompt(
  prompt: string,
  negativePrompt: string,
  styles: readonly PromptStyle[] = PROMPT_STYLES,
): { styles: string[]; prompt: string; negativePrompt: string } {
  let positive = stripPromptComments(prompt);
  let negative = stripPromptComments(negativePrompt);
  const remaining = [...styles];
  const found: string[] = [];
  for (;;) {
    const hit = firstMatchingStyle(remaining, positive, negative);
    if (!hit) break;
    [positive, negative] = hit.texts;
    found.push(hit.style.name);
    remaining.splice(remaining.indexOf(hit.style), 1);
  }
  return { styles: found.reverse(), prompt: positive, negativePrompt: negative };
}

function firstMatchingStyle(
  styles: readonly PromptStyle[],
  prompt: string,
  negativePrompt: string,
): { style: PromptStyle; texts: [string, string] } | undefined {
  for (const style of styles) {
    const texts = matchStyle(style, prompt, negativePrompt);
    if (texts) return { style, texts };
  }
  return undefined;
}

function matchStyle(
  style: PromptStyle,
  prompt: string,
  negativePrompt: string,
): [string, string] | null {
  if (!style.prompt && !style.negative_prompt) return null;
  const positive = extractStyleText(style.prompt, prompt);
  if (positive === null) return null;
  const negative = extractStyleText(style.negative_prompt, negativePrompt);
  if (negative === null) return null;
  return [positive, negative];
}

function extractStyleText(styleText: string, prompt: string): string | null {
  const text = pyStrip(prompt);
  const style = pyStrip(stripPromptComments(styleText));
  const placeholder = style.indexOf('{prompt}');
  if (placeholder >= 0) {
    const left = style.slice(0, placeholder);
    const right = style.slice(placeholder + '{prompt}'.length);
    const fits = text.startsWith(left) && text.endsWith(right);
    return fits ? text.slice(left.length, text.length - right.length) : null;
  }
  if (!text.endsWith(style)) return null;
  const rest = text.slice(0, text.length - style.length);
  return rest.endsWith(', ') ? rest.slice(0, -2) : rest;
}

// ---------------------------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Command-line flags and memory
// ---------------------------------------------------------------------------------------------

/**
 * `/sdapi/v1/cmd-flags` of a Forge started with `--api` only: every argparse destination of
 * Forge's `backend/args.py` and `modules/cmd_args.py`, with its default.
 */
export const CMD_FLAGS: Readonly<Record<string, unknown>> = {
  gpu_device_id: null,
  all_in_fp32: false,
  all_in_fp16: false,
  unet_in_bf16: false,
  unet_in_fp16: false,
  unet_in_fp8_e4m3fn: false,
  unet_in_fp8_e5m2: false,
  vae_in_fp16: false,
  vae_in_fp32: false,
  vae_in_bf16: false,
  vae_in_cpu: false,
  clip_in_fp8_e4m3fn: false,
  clip_in_fp8_e5m2: false,
  clip_in_fp16: false,
  clip_in_fp32: false,
  attention_split: false,
  attention_quad: false,
  attention_pytorch: false,
  force_upcast_attention: false,
  disable_attention_upcast: false,
  disable_xformers: false,
  directml: null,
  disable_ipex_hijack: false,
  always_gpu: false,
  always_high_vram: false,
  always_normal_vram: false,
  always_low_vram: false,
  always_no_vram: false,
  always_cpu: false,
  always_offload_from_vram: false,
  pytorch_deterministic: false,
  cuda_malloc: false,
  cuda_stream: false,
  pin_shared_memory: false,
  disable_gpu_warning: false,
  f: false,
  update_all_extensions: false,
  skip_python_version_check: false,
  skip_torch_cuda_test: false,
  reinstall_xformers: false,
  reinstall_torch: false,
  update_check: false,
  test_server: false,
  log_startup: false,
  skip_prepare_environment: false,
  skip_google_blockly: false,
  skip_install: false,
  dump_sysinfo: false,
  loglevel: null,
  do_not_download_clip: false,
  data_dir: '/opt/forge',
  models_dir: null,
  config: '/opt/forge/configs/v1-inference.yaml',
  ckpt: '/opt/forge/model.ckpt',
  ckpt_dir: null,
  vae_dir: null,
  text_encoder_dir: null,
  gfpgan_dir: './GFPGAN',
  gfpgan_model: null,
  no_half: false,
  no_half_vae: false,
  no_progressbar_hiding: false,
  max_batch_count: 16,
  embeddings_dir: '/opt/forge/embeddings',
  textual_inversion_templates_dir: '/opt/forge/textual_inversion_templates',
  hypernetwork_dir: '/opt/forge/models/hypernetworks',
  localizations_dir: '/opt/forge/localizations',
  allow_code: false,
  medvram: false,
  medvram_sdxl: false,
  lowvram: false,
  lowram: false,
  always_batch_cond_uncond: false,
  unload_gfpgan: false,
  precision: 'autocast',
  upcast_sampling: false,
  share: false,
  ngrok: null,
  ngrok_region: '',
  ngrok_options: {},
  enable_insecure_extension_access: false,
  codeformer_models_path: '/opt/forge/models/Codeformer',
  gfpgan_models_path: '/opt/forge/models/GFPGAN',
  esrgan_models_path: '/opt/forge/models/ESRGAN',
  bsrgan_models_path: '/opt/forge/models/BSRGAN',
  realesrgan_models_path: '/opt/forge/models/RealESRGAN',
  dat_models_path: '/opt/forge/models/DAT',
  clip_models_path: null,
  xformers: false,
  force_enable_xformers: false,
  xformers_flash_attention: false,
  deepdanbooru: false,
  opt_split_attention: false,
  opt_sub_quad_attention: false,
  sub_quad_q_chunk_size: 1024,
  sub_quad_kv_chunk_size: null,
  sub_quad_chunk_threshold: null,
  opt_split_attention_invokeai: false,
  opt_split_attention_v1: false,
  opt_sdp_attention: false,
  opt_sdp_no_mem_attention: false,
  disable_opt_split_attention: false,
  disable_nan_check: false,
  use_cpu: [],
  use_ipex: false,
  disable_model_loading_ram_optimization: false,
  listen: false,
  port: null,
  show_negative_prompt: false,
  ui_config_file: '/opt/forge/ui-config.json',
  hide_ui_dir_config: false,
  freeze_settings: false,
  freeze_settings_in_sections: null,
  freeze_specific_settings: null,
  ui_settings_file: '/opt/forge/config.json',
  gradio_debug: false,
  gradio_auth: null,
  gradio_auth_path: null,
  gradio_img2img_tool: null,
  gradio_inpaint_tool: null,
  gradio_allowed_path: ['/opt/forge'],
  opt_channelslast: false,
  styles_file: [],
  autolaunch: false,
  theme: null,
  use_textbox_seed: false,
  disable_console_progressbars: false,
  enable_console_prompts: false,
  vae_path: null,
  disable_safe_unpickle: false,
  api: true,
  api_auth: null,
  api_log: false,
  nowebui: false,
  ui_debug_mode: false,
  device_id: null,
  administrator: false,
  cors_allow_origins: null,
  cors_allow_origins_regex: null,
  tls_keyfile: null,
  tls_certfile: null,
  disable_tls_verify: null,
  server_name: null,
  gradio_queue: true,
  no_gradio_queue: false,
  skip_version_check: false,
  no_hashing: false,
  no_download_sd_model: false,
  subpath: null,
  add_stop_route: false,
  api_server_stop: false,
  timeout_keep_alive: 30,
  disable_all_extensions: false,
  disable_extra_extensions: false,
  skip_load_model_at_start: false,
  unix_filenames_sanitization: false,
  filenames_max_length: 128,
  no_prompt_history: false,
  forge_ref_a1111_home: null,
  controlnet_dir: null,
  controlnet_preprocessor_models_dir: null,
};

/** Which `/sdapi/v1/memory` shape to produce. */
export interface MemoryReportOptions {
  /**
   * Report an invented 24 GiB CUDA device instead of `cuda: {error: 'unavailable'}`.
   * @defaultValue false
   */
  readonly cuda?: boolean;
}

const GIB = 1024 ** 3;

/**
 * A `/sdapi/v1/memory` response. RAM uses the real process and machine numbers, computed the way
 * Forge does (total derived from the process's RSS and memory percentage, so `free` and `total`
 * are floats); CUDA is unavailable unless an invented device is requested.
 */
export function memoryReport(options: MemoryReportOptions = {}): Record<string, unknown> {
  const rss = process.memoryUsage().rss;
  const percent = (100 * rss) / totalmem();
  const total = (100 * rss) / percent;
  const ram = { free: pyFloat(total - rss), used: rss, total: pyFloat(total) };
  return { ram, cuda: options.cuda ? inventedCudaReport() : { error: 'unavailable' } };
}

function inventedCudaReport(): Record<string, unknown> {
  const total = 24 * GIB;
  const free = Math.min(total, Math.round(freemem() / 4) + 6 * GIB);
  return {
    system: { free, used: total - free, total },
    active: { current: 2_147_483_648, peak: 9_663_676_416 },
    allocated: { current: 2_147_483_648, peak: 9_663_676_416 },
    reserved: { current: 3_221_225_472, peak: 11_811_160_064 },
    inactive: { current: 104_857_600, peak: 1_610_612_736 },
    events: { retries: 0, oom: 0 },
  };
}

// ---------------------------------------------------------------------------------------------
// Options (§4.5)
// ---------------------------------------------------------------------------------------------

// Options whose Python default is a float literal. With the options whose default is a non-zero
// int, they are typed `float` in Forge's OptionsModel, so GET /options prints them as `80.0`.
const FLOAT_DEFAULT_KEYS: ReadonlySet<string> = new Set([
  'img_downscale_threshold',
  'code_former_weight',
  'sdxl_refiner_low_aesthetic_score',
  'sdxl_refiner_high_aesthetic_score',
  'inpainting_mask_weight',
  'initial_noise_multiplier',
  'img2img_extra_noise',
  's_min_uncond',
  'token_merging_ratio',
  'token_merging_ratio_img2img',
  'token_merging_ratio_hr',
  'interrogate_deepbooru_score_threshold',
  'extra_networks_default_multiplier',
  'extra_networks_card_text_scale',
  'keyedit_precision_attention',
  'keyedit_precision_extra',
  'sd_webui_modal_lightbox_toolbar_opacity',
  'eta_ddim',
  'eta_ancestral',
  's_churn',
  's_tmin',
  's_tmax',
  's_noise',
  'sigma_min',
  'sigma_max',
  'rho',
  'skip_early_cond',
  'beta_dist_alpha',
  'beta_dist_beta',
  'flux_t2i_d_cfg',
  'flux_t2i_hr_d_cfg',
  'flux_i2i_d_cfg',
]);

// Every registered option in Forge's registration order. The two GPU-weight options depend on
// the machine and are filled in by defaultOptions().
const OPTION_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  samples_save: true,
  samples_format: 'png',
  samples_filename_pattern: '',
  save_images_add_number: true,
  save_images_replace_action: 'Replace',
  grid_save: true,
  grid_format: 'png',
  grid_extended_filename: false,
  grid_only_if_multiple: true,
  grid_prevent_empty_spots: false,
  grid_zip_filename_pattern: '',
  n_rows: -1,
  font: '',
  grid_text_active_color: '#000000',
  grid_text_inactive_color: '#999999',
  grid_background_color: '#ffffff',
  save_images_before_face_restoration: false,
  save_images_before_highres_fix: false,
  save_images_before_color_correction: false,
  save_mask: false,
  save_mask_composite: false,
  jpeg_quality: 80,
  webp_lossless: false,
  export_for_4chan: true,
  img_downscale_threshold: 4.0,
  target_side_length: 4000,
  img_max_size_mp: 200,
  use_original_name_batch: true,
  use_upscaler_name_as_suffix: false,
  save_selected_only: true,
  save_write_log_csv: true,
  save_init_img: false,
  temp_dir: '',
  clean_temp_dir_at_start: false,
  save_incomplete_images: false,
  notification_audio: true,
  notification_volume: 100,
  outdir_samples: '',
  outdir_txt2img_samples: 'outputs/txt2img-images',
  outdir_img2img_samples: 'outputs/img2img-images',
  outdir_extras_samples: 'outputs/extras-images',
  outdir_grids: '',
  outdir_txt2img_grids: 'outputs/txt2img-grids',
  outdir_img2img_grids: 'outputs/img2img-grids',
  outdir_save: 'log/images',
  outdir_init_images: 'outputs/init-images',
  save_to_dirs: true,
  grid_save_to_dirs: true,
  use_save_to_dirs_for_ui: false,
  directories_filename_pattern: '[date]',
  directories_max_prompt_words: 8,
  ESRGAN_tile: 192,
  ESRGAN_tile_overlap: 8,
  realesrgan_enabled_models: ['R-ESRGAN 4x+', 'R-ESRGAN 4x+ Anime6B'],
  dat_enabled_models: ['DAT x2', 'DAT x3', 'DAT x4'],
  DAT_tile: 192,
  DAT_tile_overlap: 8,
  upscaler_for_img2img: null,
  set_scale_by_when_changing_upscaler: false,
  face_restoration: false,
  face_restoration_model: 'CodeFormer',
  code_former_weight: 0.5,
  face_restoration_unload: false,
  auto_launch_browser: 'Local',
  enable_console_prompts: false,
  show_warnings: false,
  show_gradio_deprecation_warnings: true,
  memmon_poll_rate: 8,
  samples_log_stdout: false,
  multiple_tqdm: true,
  enable_upscale_progressbar: true,
  print_hypernet_extra: false,
  list_hidden_files: true,
  disable_mmap_load_safetensors: false,
  hide_ldm_prints: true,
  dump_stacks_on_signal: false,
  profiling_enable: false,
  profiling_activities: ['CPU'],
  profiling_record_shapes: true,
  profiling_profile_memory: true,
  profiling_with_stack: true,
  profiling_filename: 'trace.json',
  api_enable_requests: true,
  api_forbid_local_requests: true,
  api_useragent: '',
  unload_models_when_training: false,
  pin_memory: false,
  save_optimizer_state: false,
  save_training_settings_to_txt: true,
  dataset_filename_word_regex: '',
  dataset_filename_join_string: ' ',
  training_image_repeats_per_epoch: 1,
  training_write_csv_every: 500,
  training_xattention_optimizations: false,
  training_enable_tensorboard: false,
  training_tensorboard_save_images: false,
  training_tensorboard_flush_every: 120,
  sd_model_checkpoint: null,
  sd_checkpoints_limit: 1,
  sd_checkpoints_keep_in_cpu: true,
  sd_checkpoint_cache: 0,
  sd_unet: 'Automatic',
  enable_quantization: false,
  emphasis: 'Original',
  enable_batch_seeds: true,
  comma_padding_backtrack: 20,
  sdxl_clip_l_skip: false,
  CLIP_stop_at_last_layers: 1,
  upcast_attn: false,
  randn_source: 'GPU',
  tiling: false,
  hires_fix_refiner_pass: 'second pass',
  sdxl_crop_top: 0,
  sdxl_crop_left: 0,
  sdxl_refiner_low_aesthetic_score: 2.5,
  sdxl_refiner_high_aesthetic_score: 6.0,
  sd3_enable_t5: false,
  sd_vae_checkpoint_cache: 0,
  sd_vae: 'Automatic',
  sd_vae_overrides_per_model_preferences: true,
  auto_vae_precision_bfloat16: false,
  auto_vae_precision: true,
  sd_vae_encode_method: 'Full',
  sd_vae_decode_method: 'Full',
  inpainting_mask_weight: 1.0,
  initial_noise_multiplier: 1.0,
  img2img_extra_noise: 0.0,
  img2img_color_correction: false,
  img2img_fix_steps: false,
  img2img_background_color: '#ffffff',
  img2img_sketch_default_brush_color: '#ffffff',
  img2img_inpaint_mask_brush_color: '#ffffff',
  img2img_inpaint_sketch_default_brush_color: '#ffffff',
  img2img_inpaint_mask_high_contrast: true,
  img2img_inpaint_mask_scribble_alpha: 75,
  return_mask: false,
  return_mask_composite: false,
  img2img_batch_show_results_limit: 32,
  overlay_inpaint: true,
  img2img_autosize: false,
  img2img_batch_use_original_name: false,
  cross_attention_optimization: 'Automatic',
  s_min_uncond: 0.0,
  s_min_uncond_all: false,
  token_merging_ratio: 0.0,
  token_merging_ratio_img2img: 0.0,
  token_merging_ratio_hr: 0.0,
  pad_cond_uncond: false,
  pad_cond_uncond_v0: false,
  persistent_cond_cache: true,
  batch_cond_uncond: true,
  fp8_storage: 'Disable',
  cache_fp16_weight: false,
  forge_try_reproduce: 'None',
  auto_backcompat: true,
  use_old_emphasis_implementation: false,
  use_old_karras_scheduler_sigmas: false,
  no_dpmpp_sde_batch_determinism: false,
  use_old_hires_fix_width_height: false,
  hires_fix_use_firstpass_conds: false,
  use_old_scheduling: false,
  use_downcasted_alpha_bar: false,
  refiner_switch_by_sample_steps: false,
  interrogate_keep_models_in_memory: false,
  interrogate_return_ranks: false,
  interrogate_clip_num_beams: 1,
  interrogate_clip_min_length: 24,
  interrogate_clip_max_length: 48,
  interrogate_clip_dict_limit: 1500,
  interrogate_clip_skip_categories: [],
  interrogate_deepbooru_score_threshold: 0.5,
  deepbooru_sort_alpha: true,
  deepbooru_use_spaces: true,
  deepbooru_escape: true,
  deepbooru_filter_tags: '',
  extra_networks_show_hidden_directories: true,
  extra_networks_dir_button_function: false,
  extra_networks_hidden_models: 'When searched',
  extra_networks_default_multiplier: 1.0,
  extra_networks_card_width: 0,
  extra_networks_card_height: 0,
  extra_networks_card_text_scale: 1.0,
  extra_networks_card_show_desc: true,
  extra_networks_card_description_is_html: false,
  extra_networks_card_order_field: 'Path',
  extra_networks_card_order: 'Ascending',
  extra_networks_tree_view_style: 'Dirs',
  extra_networks_tree_view_default_enabled: true,
  extra_networks_tree_view_default_width: 180,
  extra_networks_add_text_separator: ' ',
  ui_extra_networks_tab_reorder: '',
  textual_inversion_print_at_load: false,
  textual_inversion_add_hashes_to_infotext: true,
  sd_hypernetwork: 'None',
  keyedit_precision_attention: 0.1,
  keyedit_precision_extra: 0.05,
  keyedit_delimiters: '.,\\/!?%^*;:{}=`~() ',
  keyedit_delimiters_whitespace: ['Tab', 'Carriage Return', 'Line Feed'],
  keyedit_move: true,
  disable_token_counters: false,
  include_styles_into_token_counters: true,
  return_grid: true,
  do_not_show_images: false,
  js_modal_lightbox: true,
  js_modal_lightbox_initially_zoomed: true,
  js_modal_lightbox_gamepad: false,
  js_modal_lightbox_gamepad_repeat: 250,
  sd_webui_modal_lightbox_icon_opacity: 1,
  sd_webui_modal_lightbox_toolbar_opacity: 0.9,
  gallery_height: '',
  open_dir_button_choice: 'Subdirectory',
  hires_button_gallery_insert: false,
  compact_prompt_box: false,
  samplers_in_dropdown: true,
  dimensions_and_batch_together: true,
  sd_checkpoint_dropdown_use_short: false,
  hires_fix_show_sampler: false,
  hires_fix_show_prompts: false,
  txt2img_settings_accordion: false,
  img2img_settings_accordion: false,
  interrupt_after_current: true,
  localization: 'None',
  quick_setting_list: [],
  ui_tab_order: [],
  hidden_tabs: [],
  tabs_without_quick_settings_bar: ['Spaces'],
  ui_reorder_list: [],
  gradio_theme: 'Default',
  gradio_themes_cache: true,
  show_progress_in_title: true,
  send_seed: true,
  send_size: true,
  enable_reloading_ui_scripts: false,
  enable_pnginfo: true,
  stealth_pnginfo_option: 'Alpha',
  save_txt: false,
  add_model_name_to_info: true,
  add_model_hash_to_info: true,
  add_vae_name_to_info: true,
  add_vae_hash_to_info: true,
  add_user_name_to_info: false,
  add_version_to_infotext: true,
  disable_weights_auto_swap: true,
  infotext_skip_pasting: [],
  infotext_styles: 'Apply if any',
  show_progressbar: true,
  live_previews_enable: true,
  live_previews_image_format: 'png',
  show_progress_grid: true,
  show_progress_every_n_steps: 10,
  show_progress_type: 'Approx NN',
  live_preview_allow_lowvram_full: false,
  live_preview_content: 'Prompt',
  live_preview_refresh_period: 1000,
  live_preview_fast_interrupt: false,
  js_live_preview_in_modal_lightbox: false,
  prevent_screen_sleep_during_generation: true,
  hide_samplers: [],
  eta_ddim: 0.0,
  eta_ancestral: 1.0,
  ddim_discretize: 'uniform',
  s_churn: 0.0,
  s_tmin: 0.0,
  s_tmax: 0.0,
  s_noise: 1.0,
  sigma_min: 0.0,
  sigma_max: 0.0,
  rho: 0.0,
  eta_noise_seed_delta: 0,
  always_discard_next_to_last_sigma: false,
  sgm_noise_multiplier: false,
  uni_pc_variant: 'bh1',
  uni_pc_skip_type: 'time_uniform',
  uni_pc_order: 3,
  uni_pc_lower_order_final: true,
  sd_noise_schedule: 'Default',
  skip_early_cond: 0.0,
  beta_dist_alpha: 0.6,
  beta_dist_beta: 0.6,
  postprocessing_enable_in_main_ui: [],
  postprocessing_disable_in_extras: [],
  postprocessing_operation_order: [],
  upscaling_max_images_in_cache: 5,
  postprocessing_existing_caption_action: 'Ignore',
  disabled_extensions: [],
  disable_all_extensions: 'none',
  restore_config_state_file: '',
  sd_checkpoint_hash: '',
  forge_unet_storage_dtype: 'Automatic',
  forge_inference_memory: 1024,
  forge_async_loading: 'Queue',
  forge_pin_shared_memory: 'CPU',
  forge_preset: 'sd',
  forge_additional_modules: [],
  forge_canvas_plain: false,
  forge_canvas_toolbar_always: false,
  enable_prompt_comments: true,
  sd_t2i_sampler: 'Euler a',
  sd_t2i_scheduler: 'Automatic',
  sd_i2i_sampler: 'Euler a',
  sd_i2i_scheduler: 'Automatic',
  xl_t2i_sampler: 'DPM++ 2M SDE',
  xl_t2i_scheduler: 'Karras',
  xl_i2i_sampler: 'DPM++ 2M SDE',
  xl_i2i_scheduler: 'Karras',
  flux_t2i_sampler: 'Euler',
  flux_t2i_scheduler: 'Simple',
  flux_i2i_sampler: 'Euler',
  flux_i2i_scheduler: 'Simple',
  extra_options_txt2img: [],
  extra_options_img2img: [],
  extra_options_cols: 1,
  extra_options_accordion: false,
  sd_lora: 'None',
  lora_preferred_name: 'Alias from file',
  lora_add_hashes_to_infotext: true,
  lora_bundled_ti_to_infotext: true,
  lora_filter_disabled: true,
  lora_in_memory_limit: 0,
  lora_not_found_warning_console: false,
  lora_not_found_gradio_warning: false,
  lora_functional: false,
  sd_t2i_width: 512,
  sd_t2i_height: 640,
  sd_t2i_cfg: 7,
  sd_t2i_hr_cfg: 7,
  sd_i2i_width: 512,
  sd_i2i_height: 512,
  sd_i2i_cfg: 7,
  xl_t2i_width: 896,
  xl_t2i_height: 1152,
  xl_t2i_cfg: 5,
  xl_t2i_hr_cfg: 5,
  xl_i2i_width: 1024,
  xl_i2i_height: 1024,
  xl_i2i_cfg: 5,
  xl_GPU_MB: 0,
  flux_t2i_width: 896,
  flux_t2i_height: 1152,
  flux_t2i_cfg: 1,
  flux_t2i_hr_cfg: 1,
  flux_t2i_d_cfg: 3.5,
  flux_t2i_hr_d_cfg: 3.5,
  flux_i2i_width: 1024,
  flux_i2i_height: 1024,
  flux_i2i_cfg: 1,
  flux_i2i_d_cfg: 3.5,
  flux_GPU_MB: 0,
  SCUNET_tile: 256,
  SCUNET_tile_overlap: 8,
  SWIN_tile: 192,
  SWIN_tile_overlap: 8,
  SWIN_torch_compile: false,
  control_net_detectedmap_dir: 'detected_maps',
  control_net_models_path: '',
  control_net_modules_path: '',
  control_net_unit_count: 3,
  control_net_model_cache_size: 5,
  control_net_no_detectmap: false,
  control_net_detectmap_autosaving: false,
  control_net_allow_script_control: false,
  control_net_sync_field_args: true,
  controlnet_show_batch_images_in_ui: false,
  controlnet_increment_seed_during_batch: false,
  controlnet_disable_openpose_edit: false,
  controlnet_disable_photopea_edit: false,
  controlnet_photopea_warning: true,
  controlnet_input_thumbnail: true,
});

/**
 * The `/sdapi/v1/options` dictionary of a fresh install, in Forge's registration order: every
 * core, Forge and built-in extension option with its default, and `sd_model_checkpoint` set to
 * the first checkpoint's title (what Forge stores after loading it at start-up).
 */
export function defaultOptions(
  checkpoints: readonly CheckpointRecord[] = DEFAULT_CHECKPOINTS,
): Record<string, unknown> {
  const options = structuredClone(OPTION_DEFAULTS) as Record<string, unknown>;
  // Forge derives these from the device's memory; on a CPU-only machine that is system RAM.
  const gpuWeightsMb = Math.floor(totalmem() / 1024 / 1024) - 1024;
  options['xl_GPU_MB'] = gpuWeightsMb;
  options['flux_GPU_MB'] = gpuWeightsMb;
  const first = checkpoints[0];
  if (first) {
    options['sd_model_checkpoint'] = checkpointTitle(first);
    options['sd_checkpoint_hash'] = first.hashed ? first.sha256 : '';
  }
  return options;
}

/**
 * Shapes an options dictionary the way Forge's `OptionsModel` serializes GET /options: every
 * registered key in registration order (missing ones filled with defaults), unknown keys dropped,
 * and numbers of float-typed options wrapped in {@link PyFloat} so they print as `80.0`. Print the
 * result with `pyJsonDumps(result, { separators: [',', ':'], ensureAscii: false })` to match
 * Forge's body byte for byte.
 */
export function formatOptionsResponse(
  options: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const defaults = defaultOptions();
  const result: Record<string, unknown> = {};
  for (const [key, defaultValue] of Object.entries(defaults)) {
    const value = key in options ? options[key] : defaultValue;
    result[key] =
      isFloatOption(key, defaultValue) && typeof value === 'number' ? pyFloat(value) : value;
  }
  return result;
}

function isFloatOption(key: string, defaultValue: unknown): boolean {
  if (FLOAT_DEFAULT_KEYS.has(key)) return true;
  return typeof defaultValue === 'number' && Number.isInteger(defaultValue) && defaultValue !== 0;
}

/** Whether `key` is an option Forge knows; POST /options fails with KeyError for any other key. */
export function isKnownOption(key: string): boolean {
  return Object.hasOwn(OPTION_DEFAULTS, key);
}
