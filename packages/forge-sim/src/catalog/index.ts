/**
 * What a real Forge install reports: samplers, schedulers, checkpoints, modules, upscalers,
 * LoRAs, styles, scripts, command-line flags, memory and the full options dictionary
 * (forge-api.md §3, §4.5 and §7), plus the rules Forge applies to them (sampler and scheduler
 * resolution, checkpoint aliases, prompt styles). Each domain lives in its own file; this module
 * gathers them into one surface for the rest of the simulator.
 */
export {
  checkpointAliases,
  checkpointFilename,
  checkpointListing,
  checkpointModelName,
  checkpointShortHash,
  checkpointStem,
  checkpointTitle,
  CHECKPOINT_DIR,
  closestCheckpoint,
  DEFAULT_CHECKPOINTS,
  fileStem,
  findCheckpoint,
  type CheckpointListing,
  type CheckpointRecord,
  type ModelFamily,
} from './checkpoints.js';
export { defaultOptions, formatOptionsResponse, isKnownOption } from './default-options.js';
export { LORAS, LORA_SHORT_HASHES, MODULES, type LoraInfo, type ModuleInfo } from './networks.js';
export {
  extraScheduleType,
  findSamplerByNameOrAlias,
  resolveSamplerAndScheduler,
  SAMPLERS,
  scheduleTypeForInfotext,
  SCHEDULERS,
  type ResolvedSampler,
  type SamplerInfo,
  type SchedulerInfo,
} from './samplers.js';
export {
  ALWAYSON_SCRIPT_TITLES,
  SCRIPTS,
  SCRIPT_INFO,
  SELECTABLE_SCRIPT_TITLES,
  type GenerationMode,
  type ScriptArg,
  type ScriptInfo,
} from './scripts.js';
export {
  applyStyles,
  extractStylesFromPrompt,
  PROMPT_STYLES,
  stripPromptComments,
  type PromptStyle,
} from './styles.js';
export {
  CMD_FLAGS,
  FORGE_ROOT,
  FORGE_VERSION,
  memoryReport,
  type MemoryReportOptions,
} from './system.js';
export { LATENT_UPSCALE_MODES, UPSCALERS, type UpscalerInfo } from './upscalers.js';
