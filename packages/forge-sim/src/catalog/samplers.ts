/**
 * The samplers and schedulers a Forge install lists (forge-api.md §7), and the rules Forge applies
 * when a request names them: legacy scheduler suffixes, the exact-name fallback to `DPM++ 2M`, and
 * the `Schedule type` an infotext ends up showing.
 */
import { pyFloat, type PyNumber } from '../python-format.js';

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
