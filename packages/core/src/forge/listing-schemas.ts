/**
 * Zod schemas for Forge's listing, options and status endpoints (forge-api.md §3, §4.5, §7).
 *
 * They check the fields the product reads and let unknown keys through, so a newer Forge that adds
 * a key still passes. Fields Forge sends as `None` are nullable.
 */
import { z } from 'zod';

const nullableString = z.string().nullable();

/** One entry of `GET /sdapi/v1/sd-models`. Forge hashes lazily: `hash`/`sha256` may be null. */
export const SdModelSchema = z.looseObject({
  title: z.string(),
  model_name: z.string(),
  hash: nullableString,
  sha256: nullableString,
  filename: z.string(),
  config: nullableString.optional(),
});

/** A checkpoint as Forge lists it. */
export type SdModel = z.infer<typeof SdModelSchema>;

/** One entry of `GET /sdapi/v1/sd-modules` (Forge: VAE and text encoder files). */
export const SdModuleSchema = z.looseObject({ model_name: z.string(), filename: z.string() });

/** A VAE or text-encoder file as Forge lists it. */
export type SdModule = z.infer<typeof SdModuleSchema>;

/** One entry of `GET /sdapi/v1/samplers` (forge-api.md §7). */
export const SamplerSchema = z.looseObject({
  name: z.string(),
  aliases: z.array(z.string()),
  options: z.record(z.string(), z.unknown()),
});

/** A sampler as Forge lists it. */
export type Sampler = z.infer<typeof SamplerSchema>;

/** One entry of `GET /sdapi/v1/schedulers` (forge-api.md §7). */
export const SchedulerSchema = z.looseObject({
  name: z.string(),
  label: z.string(),
  aliases: z.array(z.string()).nullable(),
  default_rho: z.number(),
  need_inner_model: z.boolean(),
});

/** A scheduler as Forge lists it. */
export type Scheduler = z.infer<typeof SchedulerSchema>;

/** One entry of `GET /sdapi/v1/upscalers`. */
export const UpscalerSchema = z.looseObject({
  name: z.string(),
  model_name: nullableString,
  model_path: nullableString,
  model_url: nullableString,
  scale: z.number().nullable(),
});

/** An upscaler as Forge lists it. */
export type Upscaler = z.infer<typeof UpscalerSchema>;

/** One entry of `GET /sdapi/v1/latent-upscale-modes`. */
export const LatentUpscaleModeSchema = z.looseObject({ name: z.string() });

/** A latent upscale mode (valid as `hr_upscaler`). */
export type LatentUpscaleMode = z.infer<typeof LatentUpscaleModeSchema>;

/** One entry of `GET /sdapi/v1/loras`. */
export const LoraSchema = z.looseObject({
  name: z.string(),
  alias: z.string(),
  path: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});

/** A LoRA as Forge lists it. */
export type Lora = z.infer<typeof LoraSchema>;

/** One entry of `GET /sdapi/v1/prompt-styles`. */
export const PromptStyleSchema = z.looseObject({
  name: z.string(),
  prompt: nullableString,
  negative_prompt: nullableString,
});

/** A saved prompt style (styles.csv row). */
export type PromptStyle = z.infer<typeof PromptStyleSchema>;

/** `GET /sdapi/v1/scripts`: lower-cased script titles per tab; Forge may send null lists. */
export const ScriptListSchema = z.looseObject({
  txt2img: z.array(z.string()).nullable(),
  img2img: z.array(z.string()).nullable(),
});

/** Script titles Forge knows, per tab (lower case, null lists turned into empty ones). */
export interface ScriptList {
  txt2img: string[];
  img2img: string[];
}

const ramSchema = z.union([
  z.looseObject({ free: z.number(), used: z.number(), total: z.number() }),
  z.looseObject({ error: z.string() }),
]);

const cudaUsageSchema = z.looseObject({ free: z.number(), used: z.number(), total: z.number() });

const cudaSchema = z.union([
  z.looseObject({
    system: cudaUsageSchema,
    active: z.record(z.string(), z.number()),
    allocated: z.record(z.string(), z.number()),
    reserved: z.record(z.string(), z.number()),
    inactive: z.record(z.string(), z.number()),
    events: z.looseObject({ retries: z.number(), oom: z.number() }),
  }),
  z.looseObject({ error: z.string() }),
]);

/** `GET /sdapi/v1/memory` (bytes). A CPU-only host reports `cuda: {error: "unavailable"}`. */
export const MemoryReportSchema = z.looseObject({ ram: ramSchema, cuda: cudaSchema });

/** Forge's RAM and CUDA memory report. */
export type MemoryReport = z.infer<typeof MemoryReportSchema>;

/**
 * `GET /sdapi/v1/options`: hundreds of keys; the ones the product reads are checked. Forge-only keys
 * are optional so that an AUTOMATIC1111 server still passes.
 */
export const ForgeOptionsSchema = z.looseObject({
  sd_model_checkpoint: nullableString.optional(),
  forge_additional_modules: z.array(z.string()).optional(),
  forge_preset: z.string().optional(),
  forge_unet_storage_dtype: z.string().optional(),
  CLIP_stop_at_last_layers: z.number().optional(),
  live_previews_enable: z.boolean().optional(),
  show_progress_every_n_steps: z.number().optional(),
  live_previews_image_format: z.string().optional(),
});

/** Forge's global options (`shared.opts`). */
export type ForgeOptions = z.infer<typeof ForgeOptionsSchema>;

/** Any JSON body; for endpoints whose answer (`null`, `{}`) carries nothing the product reads. */
export const AnyJsonSchema = z.unknown();
