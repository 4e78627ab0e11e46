/**
 * Maps a resolved request to the Forge call that runs it (forge-api.md §3, §4.1, §4.2, §4.5).
 *
 * Choices that are not a field-for-field copy:
 * - Checkpoint, modules and clip skip go into `override_settings` with
 *   `override_settings_restore_afterwards: true`: a job never changes a backend's global options,
 *   which other jobs (and the Forge UI) rely on.
 * - Hires fix always sends `hr_additional_modules: ['Use same choices']` (Forge crashes on null,
 *   forge-api.md §5), `denoising_strength` (Forge's txt2img default is null) and `hr_cfg` (Forge's
 *   default of 1.0 would drop the negative prompt in the hires pass).
 * - `send_images: true` and `save_images: false`: images come back in the response and nothing is
 *   written on the Forge host, which also keeps the grid image out of the results.
 */
import { ForgeToolError } from '../errors.js';
import { HIRES_SAME_MODULES } from '../forge/forge-client.js';
import type {
  ExtraSingleImageRequest,
  Img2ImgRequest,
  Txt2ImgRequest,
} from '../forge/generation-schemas.js';
import type {
  HiresOptions,
  ImageSource,
  ResolvedGenerationRequest,
  UpscaleOptions,
} from './generation-request.js';

/** Image bytes the engine fetched for references to earlier jobs' images. */
export interface ForgeCallImages {
  /** The img2img source, when `init_image` refers to an earlier job (or to replace it). */
  initImages?: readonly Buffer[];
  /** The inpainting mask, when `mask` refers to an earlier job. */
  mask?: Buffer;
  /** The image to upscale, when `upscale.source` refers to an earlier job. */
  sourceImage?: Buffer;
}

/** A Forge call: which endpoint, and its JSON body (images as base64 text). */
export type ForgeCall =
  | { readonly endpoint: 'txt2img'; readonly body: Txt2ImgRequest }
  | { readonly endpoint: 'img2img'; readonly body: Img2ImgRequest }
  | { readonly endpoint: 'extra-single-image'; readonly body: ExtraSingleImageRequest };

/** The endpoint of a {@link ForgeCall}, the last part of its `/sdapi/v1/` path. */
export type ForgeEndpoint = ForgeCall['endpoint'];

/**
 * Builds the Forge call for a resolved request. Pure: the same input gives the same body.
 * @throws ForgeToolError (`FT_ERR_IMAGE_NOT_FOUND`) when the request refers to an earlier job's
 *   image and `images` does not supply its bytes
 * @example
 * ```ts
 * const call = buildForgeCall(resolved);
 * if (call.endpoint === 'txt2img') await client.txt2img(call.body);
 * ```
 */
export function buildForgeCall(
  resolved: ResolvedGenerationRequest,
  images: ForgeCallImages = {},
): ForgeCall {
  switch (resolved.kind) {
    case 'txt2img':
      return { endpoint: 'txt2img', body: txt2imgBody(resolved) };
    case 'img2img':
      return { endpoint: 'img2img', body: img2imgBody(resolved, images) };
    case 'upscale':
      return { endpoint: 'extra-single-image', body: extrasBody(resolved, images) };
  }
}

/** The fields txt2img and img2img share. */
function commonBody(request: ResolvedGenerationRequest): Txt2ImgRequest & Img2ImgRequest {
  const overrides = overrideSettings(request);
  return {
    prompt: request.prompt,
    negative_prompt: request.negative_prompt,
    styles: [...request.styles],
    seed: request.seed,
    ...(request.sampler === null ? {} : { sampler_name: request.sampler }),
    ...(request.scheduler === null ? {} : { scheduler: request.scheduler }),
    batch_size: request.batch_size,
    n_iter: request.n_iter,
    steps: request.steps,
    cfg_scale: request.cfg_scale,
    ...(request.distilled_cfg_scale === undefined
      ? {}
      : { distilled_cfg_scale: request.distilled_cfg_scale }),
    width: request.width,
    height: request.height,
    ...(overrides === undefined ? {} : { override_settings: overrides }),
    override_settings_restore_afterwards: true,
    send_images: true,
    save_images: false,
  };
}

/** Per-job option overrides (forge-api.md §4.5); undefined when there are none. */
function overrideSettings(request: ResolvedGenerationRequest): Record<string, unknown> | undefined {
  const settings: Record<string, unknown> = {};
  if (request.checkpoint !== null) settings['sd_model_checkpoint'] = request.checkpoint;
  if (request.modules !== undefined) settings['forge_additional_modules'] = [...request.modules];
  if (request.clip_skip !== undefined) settings['CLIP_stop_at_last_layers'] = request.clip_skip;
  return Object.keys(settings).length === 0 ? undefined : settings;
}

function txt2imgBody(request: ResolvedGenerationRequest): Txt2ImgRequest {
  const body = commonBody(request);
  const hires = request.hires;
  if (hires === undefined || !hires.enabled) return body;
  return { ...body, ...hiresFields(hires, request) };
}

function hiresFields(hires: HiresOptions, request: ResolvedGenerationRequest): Txt2ImgRequest {
  return {
    enable_hr: true,
    hr_scale: hires.scale,
    hr_upscaler: hires.upscaler,
    hr_second_pass_steps: hires.steps,
    denoising_strength: hires.denoising_strength,
    ...(hires.resize_x === undefined ? {} : { hr_resize_x: hires.resize_x }),
    ...(hires.resize_y === undefined ? {} : { hr_resize_y: hires.resize_y }),
    hr_cfg: hires.cfg_scale ?? request.cfg_scale,
    ...(request.distilled_cfg_scale === undefined
      ? {}
      : { hr_distilled_cfg: request.distilled_cfg_scale }),
    hr_additional_modules: [HIRES_SAME_MODULES],
  };
}

function img2imgBody(request: ResolvedGenerationRequest, images: ForgeCallImages): Img2ImgRequest {
  const initImages =
    images.initImages === undefined
      ? [inlineImage(request.init_image, 'init_image')]
      : images.initImages.map(toBase64);
  const mask =
    images.mask !== undefined
      ? toBase64(images.mask)
      : request.mask === undefined
        ? undefined
        : inlineImage(request.mask, 'mask');
  return {
    ...commonBody(request),
    init_images: initImages,
    ...(mask === undefined ? {} : { mask }),
    denoising_strength: request.denoising_strength ?? 0.75,
    ...(request.resize_mode === undefined ? {} : { resize_mode: request.resize_mode }),
  };
}

function extrasBody(
  request: ResolvedGenerationRequest,
  images: ForgeCallImages,
): ExtraSingleImageRequest {
  const upscale = requireUpscale(request.upscale);
  const source = upscale.source;
  const image =
    images.sourceImage !== undefined
      ? toBase64(images.sourceImage)
      : 'image' in source
        ? source.image
        : missingImage('upscale.source', source);
  return {
    image,
    resize_mode: 0,
    upscaling_resize: upscale.scale,
    upscaler_1: upscale.upscaler,
    upscaler_2: upscale.upscaler_2 ?? 'None',
    extras_upscaler_2_visibility: upscale.upscaler_2_visibility ?? 0,
  };
}

function requireUpscale(upscale: UpscaleOptions | undefined): UpscaleOptions {
  if (upscale !== undefined) return upscale;
  // The request schema requires the block for upscale jobs; a record that lacks it was not made
  // by the schema.
  throw new ForgeToolError('FT_ERR_REQUEST_INVALID', 'upscale: is required for upscale jobs');
}

/** The base64 text of an inline image; a reference must have been resolved to bytes. */
function inlineImage(source: ImageSource | undefined, field: string): string {
  if (typeof source === 'string') return source;
  return missingImage(field, source);
}

function missingImage(field: string, source: unknown): never {
  const reference =
    typeof source === 'object' && source !== null ? JSON.stringify(source) : 'nothing';
  throw new ForgeToolError(
    'FT_ERR_IMAGE_NOT_FOUND',
    `${field} refers to ${reference}, but its image bytes were not supplied`,
  );
}

function toBase64(bytes: Buffer): string {
  return bytes.toString('base64');
}
