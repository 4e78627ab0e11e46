/**
 * The checkpoints and VAE/text-encoder modules of the simulated install, and which of them the
 * "GPU" holds (Forge's `sd_models` + `modules_forge/main_entry.py` model bookkeeping).
 *
 * Loading is lazy, as in Forge: changing `sd_model_checkpoint` or `forge_additional_modules`
 * only refreshes the loading parameters; the next generation compares them with what is loaded
 * and pays the load time when they differ. A checkpoint that was never hashed gets its SHA-256
 * (and its `[hash]` title) when it is first loaded.
 */
import {
  closestCheckpoint,
  DEFAULT_CHECKPOINTS,
  fileStem,
  findCheckpoint,
  MODULES,
  type CheckpointRecord,
} from '../catalog/index.js';

/** What Forge's `forge_loading_parameters` holds. */
export interface LoadingParameters {
  readonly checkpoint: CheckpointRecord | null;
  readonly modules: readonly string[];
  readonly unetStorageDtype: string;
}

/** Reads the current options (the registry never writes them). */
export type OptionReader = (key: string) => unknown;

/** Checkpoint list, module list and loaded-model state. */
export class ModelRegistry {
  #checkpoints: CheckpointRecord[];
  readonly #moduleList: ReadonlyMap<string, string>;
  #parameters: LoadingParameters;
  #loadedKey: string | null = null;
  #loaded: CheckpointRecord | null = null;
  #loads = 0;

  constructor(
    readOption: OptionReader,
    checkpoints: readonly CheckpointRecord[] = DEFAULT_CHECKPOINTS,
  ) {
    this.#checkpoints = [...checkpoints];
    this.#moduleList = new Map(MODULES.map((module) => [module.model_name, module.filename]));
    this.#parameters = this.#computeParameters(readOption);
  }

  /** The checkpoints in `/sdapi/v1/sd-models` order, with their current hashed state. */
  get checkpoints(): readonly CheckpointRecord[] {
    return this.#checkpoints;
  }

  /** `checkpoint_aliases[alias]`: exact aliases only. */
  findExact(alias: string): CheckpointRecord | undefined {
    return findCheckpoint(this.#checkpoints, alias);
  }

  /** `get_closet_checkpoint_match`: exact alias, then title substring. */
  findClosest(search: string | null | undefined): CheckpointRecord | undefined {
    return search ? closestCheckpoint(this.#checkpoints, search) : undefined;
  }

  /** `module_list[basename]`: the absolute path of a module file name, if the install has it. */
  modulePath(fileName: string): string | undefined {
    return this.#moduleList.get(fileName);
  }

  /** `refresh_model_loading_parameters`: re-reads the checkpoint, modules and storage dtype. */
  refreshLoadingParameters(readOption: OptionReader): void {
    this.#parameters = this.#computeParameters(readOption);
  }

  /** Whether the next generation must load a model first. */
  needsLoad(): boolean {
    return this.#loadedKey !== parametersKey(this.#parameters);
  }

  /**
   * Marks the current loading parameters as loaded (the caller already waited the load time).
   *
   * @returns the loaded checkpoint, now hashed
   * @throws Error when the install has no checkpoint at all
   */
  completeLoad(): CheckpointRecord {
    const wanted = this.#parameters.checkpoint;
    if (!wanted) {
      throw new Error(
        'You do not have any model! Please download at least one model in [models/Stable-diffusion].',
      );
    }
    const hashed = this.#markHashed(wanted);
    this.#parameters = { ...this.#parameters, checkpoint: hashed };
    this.#loaded = hashed;
    this.#loadedKey = parametersKey(this.#parameters);
    this.#loads += 1;
    return hashed;
  }

  /** The checkpoint on the "GPU", or null before the first generation. */
  get loaded(): CheckpointRecord | null {
    return this.#loaded;
  }

  /** How many times a model was loaded. */
  get loadCount(): number {
    return this.#loads;
  }

  /** `/sdapi/v1/unload-checkpoint`: the next generation loads the weights again. */
  unload(): void {
    this.#loadedKey = null;
  }

  /** Forgets loads and hashes computed since start (the simulator's reset route). */
  reset(
    readOption: OptionReader,
    checkpoints: readonly CheckpointRecord[] = DEFAULT_CHECKPOINTS,
  ): void {
    this.#checkpoints = [...checkpoints];
    this.#loaded = null;
    this.#loadedKey = null;
    this.#loads = 0;
    this.#parameters = this.#computeParameters(readOption);
  }

  #computeParameters(readOption: OptionReader): LoadingParameters {
    const selected = readOption('sd_model_checkpoint');
    const exact = typeof selected === 'string' ? this.findExact(selected) : undefined;
    const modules = readOption('forge_additional_modules');
    const dtype = readOption('forge_unet_storage_dtype');
    return {
      // Forge's select_checkpoint falls back to the first checkpoint for an unknown choice.
      checkpoint: exact ?? this.#checkpoints[0] ?? null,
      modules: Array.isArray(modules) ? modules.map(String) : [],
      unetStorageDtype: typeof dtype === 'string' ? dtype : 'Automatic',
    };
  }

  #markHashed(checkpoint: CheckpointRecord): CheckpointRecord {
    if (checkpoint.hashed) return checkpoint;
    const hashed = { ...checkpoint, hashed: true };
    this.#checkpoints = this.#checkpoints.map((entry) =>
      entry.name === checkpoint.name ? hashed : entry,
    );
    return hashed;
  }
}

function parametersKey(parameters: LoadingParameters): string {
  return JSON.stringify([
    parameters.checkpoint?.name ?? null,
    [...parameters.modules].sort(),
    parameters.unetStorageDtype,
  ]);
}

/** The stems Forge prints as `Module N` for `forge_additional_modules` paths. */
export function moduleStems(paths: unknown): string[] {
  return Array.isArray(paths) ? paths.map((path) => fileStem(String(path))) : [];
}
