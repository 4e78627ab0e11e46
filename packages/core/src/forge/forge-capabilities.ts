/**
 * What one Forge server offers (models, samplers, upscalers, LoRAs, ...), with the lookups the
 * engine uses to reject a bad request before it is queued rather than after a GPU wait.
 *
 * Two kinds of lookup, on purpose:
 * - `find*` is lenient (case-insensitive, aliases) and returns the canonical entry. Forge itself
 *   matches sampler and scheduler names exactly and silently falls back to a default on anything
 *   else (forge-api.md §4.1), so the engine must send the returned entry's `name`, not user input.
 * - `has*` is exact where Forge is exact (checkpoints, upscalers, LoRAs, styles): the engine sends
 *   the caller's string unchanged, so only a string Forge will accept may pass.
 */
import type {
  LatentUpscaleMode,
  Lora,
  PromptStyle,
  Sampler,
  Scheduler,
  ScriptList,
  SdModel,
  SdModule,
  Upscaler,
} from './listing-schemas.js';

/** The options that matter to the engine, read from `GET /sdapi/v1/options`. */
export interface CapabilitySettings {
  /** `sd_model_checkpoint`: the checkpoint title Forge has selected, or null. */
  currentCheckpoint: string | null;
  /** `forge_additional_modules`: absolute paths of the selected VAE/text-encoder files. */
  additionalModules: string[];
  /** `forge_preset` (`sd`, `xl`, `flux`, `all`); null on a server without it. */
  preset: string | null;
  /** `forge_unet_storage_dtype` (`Automatic`, `bnb-nf4`, ...); null on a server without it. */
  unetStorageDtype: string | null;
  /** `CLIP_stop_at_last_layers` (clip skip). */
  clipSkip: number | null;
  /** Live preview settings: whether Forge makes previews, how often, in which format. */
  livePreviews: { enabled: boolean | null; everyNSteps: number | null; format: string | null };
}

/** Everything a capability probe gathered from one server. */
export interface CapabilitySnapshot {
  /** The client's name for the backend. */
  backend: string;
  /** When the probe finished. */
  probedAt: Date;
  /** `GET /sdapi/v1/sd-models`. */
  checkpoints: SdModel[];
  /** `GET /sdapi/v1/sd-modules` (VAE and text encoders). */
  modules: SdModule[];
  /** `GET /sdapi/v1/samplers`. */
  samplers: Sampler[];
  /** `GET /sdapi/v1/schedulers`. */
  schedulers: Scheduler[];
  /** `GET /sdapi/v1/upscalers`. */
  upscalers: Upscaler[];
  /** `GET /sdapi/v1/latent-upscale-modes`. */
  latentUpscaleModes: LatentUpscaleMode[];
  /** `GET /sdapi/v1/loras`. */
  loras: Lora[];
  /** `GET /sdapi/v1/prompt-styles`. */
  styles: PromptStyle[];
  /** `GET /sdapi/v1/scripts`. */
  scripts: ScriptList;
  /** The options that matter, from `GET /sdapi/v1/options`. */
  settings: CapabilitySettings;
}

/** A sampler name resolved against the server's lists. */
export interface ResolvedSampler {
  /** The sampler; send its `name`. */
  sampler: Sampler;
  /** The scheduler split off a legacy name such as `DPM++ 2M Karras`, if there was one. */
  scheduler: Scheduler | undefined;
}

/** Options of {@link ForgeCapabilities.hasUpscaler}. */
export interface UpscalerLookupOptions {
  /**
   * Whether latent upscale modes count. They do for hires fix (`hr_upscaler`), not for extras.
   * @defaultValue `true`
   */
  includeLatent?: boolean;
}

/** The capabilities of one Forge server, with lookups. */
export class ForgeCapabilities implements CapabilitySnapshot {
  readonly backend: string;
  readonly probedAt: Date;
  readonly checkpoints: SdModel[];
  readonly modules: SdModule[];
  readonly samplers: Sampler[];
  readonly schedulers: Scheduler[];
  readonly upscalers: Upscaler[];
  readonly latentUpscaleModes: LatentUpscaleMode[];
  readonly loras: Lora[];
  readonly styles: PromptStyle[];
  readonly scripts: ScriptList;
  readonly settings: CapabilitySettings;
  readonly #samplersByKey: Map<string, Sampler>;
  readonly #schedulersByKey: Map<string, Scheduler>;
  readonly #checkpointsByAlias: Map<string, SdModel>;

  constructor(snapshot: CapabilitySnapshot) {
    this.backend = snapshot.backend;
    this.probedAt = snapshot.probedAt;
    this.checkpoints = snapshot.checkpoints;
    this.modules = snapshot.modules;
    this.samplers = snapshot.samplers;
    this.schedulers = snapshot.schedulers;
    this.upscalers = snapshot.upscalers;
    this.latentUpscaleModes = snapshot.latentUpscaleModes;
    this.loras = snapshot.loras;
    this.styles = snapshot.styles;
    this.scripts = snapshot.scripts;
    this.settings = snapshot.settings;
    this.#samplersByKey = indexBy(snapshot.samplers, (s) => [s.name, ...s.aliases], lower);
    this.#schedulersByKey = indexBy(snapshot.schedulers, schedulerKeys, lower);
    this.#checkpointsByAlias = indexBy(snapshot.checkpoints, checkpointAliases, (key) => key);
  }

  /**
   * Finds a sampler by name or alias, case-insensitively (`euler a`, `k_euler_a`). A legacy name
   * that ends in a scheduler (`DPM++ 2M Karras`) finds its sampler. Send the result's `name`.
   */
  findSampler(name: string): Sampler | undefined {
    return this.resolveSampler(name)?.sampler;
  }

  /** Like {@link findSampler}, and also returns the scheduler a legacy name carried. */
  resolveSampler(name: string): ResolvedSampler | undefined {
    const direct = this.#samplersByKey.get(lower(name));
    if (direct !== undefined) return { sampler: direct, scheduler: undefined };
    for (const scheduler of this.schedulers) {
      for (const key of schedulerKeys(scheduler)) {
        const suffix = ` ${key}`;
        if (!lower(name).endsWith(lower(suffix))) continue;
        const sampler = this.#samplersByKey.get(lower(name.slice(0, -suffix.length)));
        if (sampler !== undefined) return { sampler, scheduler };
      }
    }
    return undefined;
  }

  /** Finds a scheduler by name, label or alias, case-insensitively. Send the result's `name`. */
  findScheduler(name: string): Scheduler | undefined {
    return this.#schedulersByKey.get(lower(name));
  }

  /** Whether {@link findScheduler} finds `name`. */
  hasScheduler(name: string): boolean {
    return this.findScheduler(name) !== undefined;
  }

  /**
   * Finds a checkpoint the way Forge's `sd_model_checkpoint` does, exactly: by title
   * (`name [hash]`), name (path below the models folder), model name, file stem, short hash or
   * sha256. Forge answers 500 for anything else, or in `override_settings` silently ignores it.
   */
  findCheckpoint(alias: string): SdModel | undefined {
    return this.#checkpointsByAlias.get(alias);
  }

  /** Whether an upscaler (or, unless excluded, a latent upscale mode) has exactly this name. */
  hasUpscaler(name: string, options: UpscalerLookupOptions = {}): boolean {
    if (this.upscalers.some((upscaler) => upscaler.name === name)) return true;
    const includeLatent = options.includeLatent ?? true;
    return includeLatent && this.latentUpscaleModes.some((mode) => mode.name === name);
  }

  /** Whether a LoRA has exactly this name or alias (as in `<lora:name:0.8>`). */
  hasLora(name: string): boolean {
    return this.loras.some((lora) => lora.name === name || lora.alias === name);
  }

  /** Whether a saved prompt style has exactly this name. */
  hasStyle(name: string): boolean {
    return this.styles.some((style) => style.name === name);
  }

  /** Whether a script with this title exists on a tab; Forge matches titles case-insensitively. */
  hasScript(title: string, tab: keyof ScriptList): boolean {
    const wanted = lower(title);
    return this.scripts[tab].some((script) => lower(script) === wanted);
  }

  /**
   * Finds a VAE/text-encoder file by file name (`ae.safetensors`), stem (`ae`) or absolute path,
   * the forms `forge_additional_modules` accepts. Forge silently drops names it does not know.
   */
  findModule(name: string): SdModule | undefined {
    return this.modules.find(
      (module) =>
        module.model_name === name || module.filename === name || stem(module.model_name) === name,
    );
  }

  /** A plain copy for logs and API responses. */
  toJSON(): CapabilitySnapshot {
    return {
      backend: this.backend,
      probedAt: this.probedAt,
      checkpoints: this.checkpoints,
      modules: this.modules,
      samplers: this.samplers,
      schedulers: this.schedulers,
      upscalers: this.upscalers,
      latentUpscaleModes: this.latentUpscaleModes,
      loras: this.loras,
      styles: this.styles,
      scripts: this.scripts,
      settings: this.settings,
    };
  }
}

function schedulerKeys(scheduler: Scheduler): string[] {
  return [scheduler.name, scheduler.label, ...(scheduler.aliases ?? [])];
}

/** Every string Forge's `checkpoint_aliases` registers for a checkpoint (forge-api.md §4.5). */
function checkpointAliases(model: SdModel): string[] {
  const aliases = [model.title, model.model_name];
  const name = checkpointName(model);
  aliases.push(name, stem(basename(model.filename)));
  if (model.hash !== null) aliases.push(model.hash, `${name} [${model.hash}]`);
  if (model.sha256 !== null) aliases.push(model.sha256);
  return aliases;
}

/** The path below the models folder: the title without its ` [hash]` suffix. */
function checkpointName(model: SdModel): string {
  const suffix = model.hash === null ? undefined : ` [${model.hash}]`;
  if (suffix !== undefined && model.title.endsWith(suffix)) {
    return model.title.slice(0, -suffix.length);
  }
  return model.title;
}

function indexBy<Entry>(
  entries: readonly Entry[],
  keysOf: (entry: Entry) => readonly string[],
  normalise: (key: string) => string,
): Map<string, Entry> {
  const index = new Map<string, Entry>();
  for (const entry of entries) {
    for (const key of keysOf(entry)) {
      // Should two entries share a key, the first listed wins: appending an entry never changes
      // what an existing name means.
      if (!index.has(normalise(key))) index.set(normalise(key), entry);
    }
  }
  return index;
}

function lower(text: string): string {
  return text.toLowerCase();
}

function basename(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

function stem(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot <= 0 ? fileName : fileName.slice(0, dot);
}
