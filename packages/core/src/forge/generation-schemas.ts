/**
 * Zod schemas for Forge's generation endpoints: txt2img, img2img, progress, extras upscaling and
 * png-info (forge-api.md §3 to §5, §8.4).
 *
 * Request schemas mirror Forge's pydantic models: every field optional because Forge fills its own
 * defaults, values strictly typed. They are strict objects on purpose: Forge silently ignores an
 * unknown key, so a typo such as `sampler` for `sampler_name` would otherwise run with the default
 * sampler and nobody would notice. The client itself does not re-validate requests (the typed
 * signatures cover it and Forge answers 422 on anything else); the engine validates user input with
 * these schemas before a job is queued.
 *
 * Response schemas check what the product relies on and let unknown keys through: a newer Forge
 * that adds a key is not an error.
 */
import { z } from 'zod';

const int = z.int();
const nullableInt = z.int().nullable();
const nullableNumber = z.number().nullable();
const nullableString = z.string().nullable();
const nullableBool = z.boolean().nullable();

/** One always-on script's arguments, keyed by its title in `alwayson_scripts`. */
export const AlwaysOnScriptArgsSchema = z.looseObject({ args: z.array(z.unknown()).optional() });

/** Fields txt2img and img2img share (forge-api.md §4.1). */
const commonGenerationFields = {
  prompt: z.string(),
  negative_prompt: z.string(),
  styles: z.array(z.string()).nullable(),
  seed: int,
  subseed: int,
  subseed_strength: z.number(),
  seed_resize_from_h: int,
  seed_resize_from_w: int,
  sampler_name: nullableString,
  sampler_index: z.string(),
  scheduler: nullableString,
  batch_size: int,
  n_iter: int,
  steps: int,
  cfg_scale: z.number(),
  distilled_cfg_scale: z.number(),
  width: int,
  height: int,
  restore_faces: nullableBool,
  tiling: nullableBool,
  do_not_save_samples: z.boolean(),
  do_not_save_grid: z.boolean(),
  eta: nullableNumber,
  s_min_uncond: nullableNumber,
  s_churn: nullableNumber,
  s_tmax: nullableNumber,
  s_tmin: nullableNumber,
  s_noise: nullableNumber,
  override_settings: z.record(z.string(), z.unknown()).nullable(),
  override_settings_restore_afterwards: z.boolean(),
  refiner_checkpoint: nullableString,
  refiner_switch_at: nullableNumber,
  disable_extra_networks: z.boolean(),
  comments: z.record(z.string(), z.unknown()).nullable(),
  denoising_strength: nullableNumber,
  hr_distilled_cfg: z.number(),
  force_task_id: nullableString,
  script_name: nullableString,
  script_args: z.array(z.unknown()),
  send_images: z.boolean(),
  save_images: z.boolean(),
  alwayson_scripts: z.record(z.string(), AlwaysOnScriptArgsSchema),
  infotext: nullableString,
};

/** Hires-fix and first-pass fields that only txt2img accepts (forge-api.md §4.1). */
const txt2imgOnlyFields = {
  firstpass_image: nullableString,
  enable_hr: z.boolean(),
  firstphase_width: int,
  firstphase_height: int,
  hr_scale: z.number(),
  hr_upscaler: nullableString,
  hr_second_pass_steps: int,
  hr_resize_x: int,
  hr_resize_y: int,
  hr_checkpoint_name: nullableString,
  hr_sampler_name: nullableString,
  hr_scheduler: nullableString,
  hr_prompt: z.string(),
  hr_negative_prompt: z.string(),
  hr_additional_modules: z.array(z.string()).nullable(),
  hr_cfg: z.number(),
};

/** Image and mask fields that only img2img accepts (forge-api.md §4.2); images are base64. */
const img2imgOnlyFields = {
  init_images: z.array(z.string()).nullable(),
  mask: nullableString,
  include_init_images: z.boolean(),
  resize_mode: int,
  image_cfg_scale: nullableNumber,
  mask_blur_x: int,
  mask_blur_y: int,
  mask_blur: nullableInt,
  mask_round: z.boolean(),
  inpainting_fill: int,
  inpaint_full_res: z.boolean(),
  inpaint_full_res_padding: int,
  inpainting_mask_invert: int,
  initial_noise_multiplier: nullableNumber,
  latent_mask: nullableString,
};

/** Body of `POST /sdapi/v1/txt2img`: every field optional, Forge fills the defaults. */
export const Txt2ImgRequestSchema = z
  .strictObject({ ...commonGenerationFields, ...txt2imgOnlyFields })
  .partial();

/** Body of `POST /sdapi/v1/txt2img` as Forge receives it. */
export type Txt2ImgRequest = z.infer<typeof Txt2ImgRequestSchema>;

/** Body of `POST /sdapi/v1/img2img` (images as base64): every field optional. */
export const Img2ImgRequestSchema = z
  .strictObject({ ...commonGenerationFields, ...img2imgOnlyFields })
  .partial();

/** Body of `POST /sdapi/v1/img2img` as Forge receives it (images as base64 strings). */
export type Img2ImgRequest = z.infer<typeof Img2ImgRequestSchema>;

/** An image handed to the client: bytes (Buffer, Uint8Array) or base64, `data:` URL allowed. */
export type ImageInput = Uint8Array | string;

/** img2img input as the client accepts it: images as bytes or base64. */
export type Img2ImgInput = Omit<Img2ImgRequest, 'init_images' | 'mask'> & {
  /** Source images; Forge answers 404 "Init image not found" without one. */
  init_images?: ImageInput[] | null;
  /** Inpainting mask (white = repaint). */
  mask?: ImageInput | null;
};

/** The raw txt2img/img2img response (forge-api.md §3): `info` is a JSON string. */
export const GenerationResponseSchema = z.looseObject({
  images: z.array(z.string()).nullable(),
  parameters: z.record(z.string(), z.unknown()),
  info: z.string(),
});

/**
 * The parsed `info` JSON string of a generation response, keys of forge-api.md §5. Values are the
 * resolved ones (a `-1` seed request comes back as the seed that was used).
 */
export const ForgeGenerationInfoSchema = z.looseObject({
  prompt: z.string(),
  all_prompts: z.array(z.string()),
  negative_prompt: z.string(),
  all_negative_prompts: z.array(z.string()),
  seed: int,
  all_seeds: z.array(int),
  subseed: int,
  all_subseeds: z.array(int),
  subseed_strength: z.number(),
  width: int,
  height: int,
  sampler_name: z.string(),
  cfg_scale: z.number(),
  steps: int,
  batch_size: int,
  restore_faces: nullableBool,
  face_restoration_model: nullableString,
  sd_model_name: nullableString,
  sd_model_hash: nullableString,
  sd_vae_name: nullableString,
  sd_vae_hash: nullableString,
  seed_resize_from_w: int,
  seed_resize_from_h: int,
  denoising_strength: nullableNumber,
  extra_generation_params: z.record(z.string(), z.unknown()),
  index_of_first_image: int,
  infotexts: z.array(z.string()),
  styles: z.array(z.string()),
  job_timestamp: z.string(),
  clip_skip: int,
  is_using_inpainting_conditioning: z.boolean(),
  version: z.string(),
});

/** The parsed `info` of a generation response (forge-api.md §5). */
export type ForgeGenerationInfo = z.infer<typeof ForgeGenerationInfoSchema>;

/** What the client returns for txt2img and img2img. */
export interface GenerationResult {
  /** Decoded images in Forge's order (a grid first when `save_images` produced one). */
  images: Buffer[];
  /** Forge's echo of the request with its defaults applied (unresolved: seed stays -1). */
  parameters: Record<string, unknown>;
  /** The parsed and checked `info` JSON. */
  info: ForgeGenerationInfo;
  /** The `info` string exactly as Forge sent it. */
  rawInfo: string;
}

/**
 * Decodes a generation response into a {@link GenerationResult}: images to bytes, `info` parsed
 * and checked. A broken image or `info` is reported at its path (`images[1]`, `info.seed`).
 */
export const GenerationResultSchema = GenerationResponseSchema.transform(
  (raw, ctx): GenerationResult => {
    const images = decodeImages(raw.images ?? [], ctx);
    const info = parseInfo(raw.info, ctx);
    if (images === undefined || info === undefined) return z.NEVER;
    return { images, parameters: raw.parameters, info, rawInfo: raw.info };
  },
);

type TransformContext = z.core.$RefinementCtx;

function decodeImages(encoded: readonly string[], ctx: TransformContext): Buffer[] | undefined {
  const images: Buffer[] = [];
  for (const [index, text] of encoded.entries()) {
    const image = decodeBase64(text);
    if (image === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'is not base64 image data',
        path: ['images', index],
      });
      return undefined;
    }
    images.push(image);
  }
  return images;
}

function parseInfo(text: string, ctx: TransformContext): ForgeGenerationInfo | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a JSON string', path: ['info'] });
    return undefined;
  }
  const result = ForgeGenerationInfoSchema.safeParse(json);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: ['info', ...issue.path] });
  }
  return undefined;
}

/**
 * Decodes base64 (a `data:...;base64,` prefix is allowed); undefined when it is not base64.
 *
 * Node's decoder skips characters outside the alphabet instead of failing, so the check is on
 * the decoded length: anything skipped makes it fall short of what the text's length promises.
 * This is a tenth of the cost of matching a multi-megabyte string against a pattern first.
 */
export function decodeBase64(text: string): Buffer | undefined {
  const comma = text.startsWith('data:') ? text.indexOf(',') : -1;
  const payload = comma === -1 ? text : text.slice(comma + 1);
  if (payload.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(payload, 'base64');
  const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  return bytes.length === (payload.length / 4) * 3 - padding ? bytes : undefined;
}

/** `state` of the progress response (`shared_state.State.dict()`, forge-api.md §4.3). */
export const ForgeStateSchema = z.looseObject({
  skipped: z.boolean(),
  interrupted: z.boolean(),
  stopping_generation: z.boolean().optional(),
  job: z.string(),
  job_count: int,
  job_timestamp: z.string(),
  job_no: int,
  sampling_step: int,
  sampling_steps: int,
});

/** The raw `GET /sdapi/v1/progress` response; `current_image` is base64 PNG or null. */
export const ProgressResponseSchema = z.looseObject({
  progress: z.number(),
  eta_relative: z.number(),
  state: ForgeStateSchema,
  current_image: nullableString.optional(),
  textinfo: nullableString.optional(),
});

/** Progress with the live preview decoded to bytes; the preview is reported at its path. */
export const ProgressSchema = ProgressResponseSchema.transform((raw, ctx) => {
  const encoded = raw.current_image ?? null;
  const image = encoded === null ? null : decodeBase64(encoded);
  if (image === undefined) {
    ctx.addIssue({ code: 'custom', message: 'is not base64 image data', path: ['current_image'] });
    return z.NEVER;
  }
  return { ...raw, current_image: image };
});

/** Forge's progress (forge-api.md §4.3) with the live preview decoded to image bytes or null. */
export type ProgressResponse = z.output<typeof ProgressSchema>;

/** Body of `POST /sdapi/v1/extra-single-image` as Forge receives it (forge-api.md §3). */
export const ExtraSingleImageRequestSchema = z
  .strictObject({
    image: z.string(),
    resize_mode: z.union([z.literal(0), z.literal(1)]),
    show_extras_results: z.boolean(),
    gfpgan_visibility: z.number(),
    codeformer_visibility: z.number(),
    codeformer_weight: z.number(),
    upscaling_resize: z.number(),
    upscaling_resize_w: int,
    upscaling_resize_h: int,
    upscaling_crop: z.boolean(),
    upscaler_1: z.string(),
    upscaler_2: z.string(),
    extras_upscaler_2_visibility: z.number(),
    upscale_first: z.boolean(),
  })
  .partial()
  .extend({ image: z.string() });

/** Body of `POST /sdapi/v1/extra-single-image` (image as base64). */
export type ExtraSingleImageRequest = z.infer<typeof ExtraSingleImageRequestSchema>;

/** Extras input as the client accepts it: the image as bytes or base64. */
export type ExtraSingleImageInput = Omit<ExtraSingleImageRequest, 'image'> & { image: ImageInput };

/** The raw extras response: `image` is base64. */
export const ExtraSingleImageResponseSchema = z.looseObject({
  html_info: z.string(),
  image: z.string(),
});

/** What the client returns for extras upscaling. */
export interface ExtraSingleImageResult {
  /** The processed image bytes. */
  image: Buffer;
  /** Forge's HTML summary of what was done. */
  htmlInfo: string;
}

/** Decodes the extras response into an {@link ExtraSingleImageResult}. */
export const ExtraSingleImageResultSchema = ExtraSingleImageResponseSchema.transform(
  (raw, ctx): ExtraSingleImageResult => {
    const image = decodeBase64(raw.image);
    if (image !== undefined) return { image, htmlInfo: raw.html_info };
    ctx.addIssue({ code: 'custom', message: 'is not base64 image data', path: ['image'] });
    return z.NEVER;
  },
);

/** `POST /sdapi/v1/png-info` response (forge-api.md §8.4): parsed values stay strings. */
export const PngInfoResponseSchema = z.looseObject({
  info: z.string(),
  items: z.record(z.string(), z.unknown()),
  parameters: z.record(z.string(), z.unknown()),
});

/** `POST /sdapi/v1/png-info` response. */
export type PngInfoResponse = z.infer<typeof PngInfoResponseSchema>;
