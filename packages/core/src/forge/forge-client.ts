/**
 * The client for one Stable Diffusion WebUI Forge server (forge-api.md is the contract).
 */
import { z } from 'zod';
import {
  ExtraSingleImageResultSchema,
  GenerationResultSchema,
  PngInfoResponseSchema,
  ProgressSchema,
  type ExtraSingleImageInput,
  type ExtraSingleImageResult,
  type GenerationResult,
  type ImageInput,
  type Img2ImgInput,
  type Img2ImgRequest,
  type PngInfoResponse,
  type ProgressResponse,
  type Txt2ImgRequest,
} from './generation-schemas.js';
import {
  AnyJsonSchema,
  ForgeOptionsSchema,
  LatentUpscaleModeSchema,
  LoraSchema,
  MemoryReportSchema,
  PromptStyleSchema,
  SamplerSchema,
  SchedulerSchema,
  ScriptListSchema,
  SdModelSchema,
  SdModuleSchema,
  UpscalerSchema,
  type ForgeOptions,
  type LatentUpscaleMode,
  type Lora,
  type MemoryReport,
  type PromptStyle,
  type Sampler,
  type Scheduler,
  type ScriptList,
  type SdModel,
  type SdModule,
  type Upscaler,
} from './listing-schemas.js';
import {
  resolveForgeClientOptions,
  type ForgeCallOptions,
  type ForgeClientOptions,
} from './forge-client-options.js';
import { ForgeTransport, type ForgeRequestKind } from './forge-transport.js';

/** Options of {@link ForgeClient.progress}. */
export interface ProgressOptions extends ForgeCallOptions {
  /** Ask Forge not to send the live preview (saves encoding and bytes). */
  skipCurrentImage?: boolean;
}

/** What Forge's hires fix needs in `hr_additional_modules` to reuse the first pass's modules. */
export const HIRES_SAME_MODULES = 'Use same choices';

/**
 * A client for one Forge server: an undici keep-alive pool, zod-checked answers, coded errors.
 *
 * Every method takes `{ signal?, timeoutMs? }` and fails with a {@link ForgeError} whose `code`
 * says what went wrong (`FT_ERR_FORGE_UNREACHABLE`, `FT_ERR_FORGE_TIMEOUT`,
 * `FT_ERR_FORGE_VALIDATION`, ...). Generation calls (txt2img, img2img, extras) get
 * `generationTimeoutMs`; every other call gets `probeTimeoutMs`.
 *
 * @example
 * ```ts
 * const forge = new ForgeClient({ baseUrl: 'http://127.0.0.1:7860', name: 'gpu-1' });
 * const { images, info } = await forge.txt2img({ prompt: 'a red fox', steps: 20 });
 * console.log(info.seed, images[0]?.length);
 * await forge.close();
 * ```
 */
export class ForgeClient {
  readonly #transport: ForgeTransport;
  readonly #name: string;
  readonly #baseUrl: string;

  /** @throws ConfigError (`FT_ERR_CONFIG_INVALID`) naming each bad option and its rule */
  constructor(options: ForgeClientOptions) {
    const resolved = resolveForgeClientOptions(options);
    this.#name = resolved.name;
    this.#baseUrl = resolved.baseUrl.href;
    this.#transport = new ForgeTransport(resolved);
  }

  /** The backend's name used in errors and logs. */
  get name(): string {
    return this.#name;
  }

  /** The normalised base URL. */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  /**
   * Generates images from a prompt (`POST /sdapi/v1/txt2img`); resolves when every image is done.
   *
   * Works around a Forge bug: with `enable_hr: true` and no `hr_additional_modules`, Forge crashes
   * in the hires pass (`TypeError: argument of type 'NoneType' is not iterable`, forge-api.md §5;
   * also reported as Haoming02/sd-webui-forge-classic#1385). When the caller leaves
   * `hr_additional_modules` unset or null, the client sends `["Use same choices"]`, which is what
   * the Forge UI sends. Callers should also set `denoising_strength` and `hr_cfg` with hires.
   */
  async txt2img(request: Txt2ImgRequest, call?: ForgeCallOptions): Promise<GenerationResult> {
    const body = withHiresModules(request);
    return this.#post('/sdapi/v1/txt2img', body, GenerationResultSchema, call, 'generation');
  }

  /**
   * Generates images from images (`POST /sdapi/v1/img2img`). Init images and the mask may be given
   * as bytes or base64; without an init image Forge answers 404 (`FT_ERR_FORGE_NOT_FOUND`).
   */
  async img2img(request: Img2ImgInput, call?: ForgeCallOptions): Promise<GenerationResult> {
    const body = encodeImg2Img(request);
    return this.#post('/sdapi/v1/img2img', body, GenerationResultSchema, call, 'generation');
  }

  /**
   * {@link ForgeClient.txt2img} without decoding: resolves with the 2xx response body as bytes,
   * for a worker thread to parse (a batch of large images is tens of megabytes of JSON, too much
   * to parse on the event loop). Same hires workaround, same deadline, and a non-2xx answer fails
   * with the same coded {@link ForgeError}; the body's shape is not checked here.
   */
  async txt2imgRaw(request: Txt2ImgRequest, call?: ForgeCallOptions): Promise<Uint8Array> {
    return this.#postRaw('/sdapi/v1/txt2img', withHiresModules(request), call);
  }

  /** {@link ForgeClient.img2img} without decoding: the 2xx response body as bytes. */
  async img2imgRaw(request: Img2ImgInput, call?: ForgeCallOptions): Promise<Uint8Array> {
    return this.#postRaw('/sdapi/v1/img2img', encodeImg2Img(request), call);
  }

  /**
   * Reads Forge's global progress (`GET /sdapi/v1/progress`). Forge runs one generation at a time,
   * so this is the progress of whatever runs on the server now.
   */
  async progress(options: ProgressOptions = {}): Promise<ProgressResponse> {
    const { skipCurrentImage = false, ...call } = options;
    const query = { skip_current_image: String(skipCurrentImage) };
    return this.#transport.request(
      { method: 'GET', path: '/sdapi/v1/progress', query, schema: ProgressSchema, kind: 'probe' },
      call,
    );
  }

  /**
   * Interrupts the running generation (`POST /sdapi/v1/interrupt`). The generation call then
   * resolves normally with the partly denoised images. A no-op when Forge is idle.
   */
  async interrupt(call?: ForgeCallOptions): Promise<void> {
    await this.#post('/sdapi/v1/interrupt', undefined, AnyJsonSchema, call);
  }

  /** Ends the current batch early and continues with the next (`POST /sdapi/v1/skip`). */
  async skip(call?: ForgeCallOptions): Promise<void> {
    await this.#post('/sdapi/v1/skip', undefined, AnyJsonSchema, call);
  }

  /** Reads Forge's global options (`GET /sdapi/v1/options`). */
  async getOptions(call?: ForgeCallOptions): Promise<ForgeOptions> {
    return this.#get('/sdapi/v1/options', ForgeOptionsSchema, call);
  }

  /**
   * Changes Forge's global options (`POST /sdapi/v1/options`); they persist on the server. A
   * checkpoint change is only recorded here: Forge loads it at the start of the next generation.
   * Jobs should prefer `override_settings` per request. An unknown checkpoint or key fails with
   * `FT_ERR_FORGE_SERVER`.
   */
  async setOptions(options: Record<string, unknown>, call?: ForgeCallOptions): Promise<void> {
    await this.#post('/sdapi/v1/options', options, AnyJsonSchema, call);
  }

  /** Upscales or restores one image (`POST /sdapi/v1/extra-single-image`). */
  async extraSingleImage(
    request: ExtraSingleImageInput,
    call?: ForgeCallOptions,
  ): Promise<ExtraSingleImageResult> {
    const body = { ...request, image: imageToBase64(request.image, 'image') };
    return this.#post(
      '/sdapi/v1/extra-single-image',
      body,
      ExtraSingleImageResultSchema,
      call,
      'generation',
    );
  }

  /** {@link ForgeClient.extraSingleImage} without decoding: the 2xx response body as bytes. */
  async extraSingleImageRaw(
    request: ExtraSingleImageInput,
    call?: ForgeCallOptions,
  ): Promise<Uint8Array> {
    const body = { ...request, image: imageToBase64(request.image, 'image') };
    return this.#postRaw('/sdapi/v1/extra-single-image', body, call);
  }

  /** Lists checkpoints (`GET /sdapi/v1/sd-models`). */
  async sdModels(call?: ForgeCallOptions): Promise<SdModel[]> {
    return this.#get('/sdapi/v1/sd-models', z.array(SdModelSchema), call);
  }

  /** Lists VAE and text-encoder files (`GET /sdapi/v1/sd-modules`, Forge only). */
  async sdModules(call?: ForgeCallOptions): Promise<SdModule[]> {
    return this.#get('/sdapi/v1/sd-modules', z.array(SdModuleSchema), call);
  }

  /** Lists samplers (`GET /sdapi/v1/samplers`). */
  async samplers(call?: ForgeCallOptions): Promise<Sampler[]> {
    return this.#get('/sdapi/v1/samplers', z.array(SamplerSchema), call);
  }

  /** Lists schedulers (`GET /sdapi/v1/schedulers`). */
  async schedulers(call?: ForgeCallOptions): Promise<Scheduler[]> {
    return this.#get('/sdapi/v1/schedulers', z.array(SchedulerSchema), call);
  }

  /** Lists upscalers (`GET /sdapi/v1/upscalers`). */
  async upscalers(call?: ForgeCallOptions): Promise<Upscaler[]> {
    return this.#get('/sdapi/v1/upscalers', z.array(UpscalerSchema), call);
  }

  /** Lists latent upscale modes, valid as `hr_upscaler` (`GET /sdapi/v1/latent-upscale-modes`). */
  async latentUpscaleModes(call?: ForgeCallOptions): Promise<LatentUpscaleMode[]> {
    return this.#get('/sdapi/v1/latent-upscale-modes', z.array(LatentUpscaleModeSchema), call);
  }

  /** Lists LoRAs (`GET /sdapi/v1/loras`; Forge serves it without `--api-auth`). */
  async loras(call?: ForgeCallOptions): Promise<Lora[]> {
    return this.#get('/sdapi/v1/loras', z.array(LoraSchema), call);
  }

  /** Lists saved prompt styles (`GET /sdapi/v1/prompt-styles`). */
  async promptStyles(call?: ForgeCallOptions): Promise<PromptStyle[]> {
    return this.#get('/sdapi/v1/prompt-styles', z.array(PromptStyleSchema), call);
  }

  /** Lists script titles per tab, lower case (`GET /sdapi/v1/scripts`). */
  async scripts(call?: ForgeCallOptions): Promise<ScriptList> {
    const scripts = await this.#get('/sdapi/v1/scripts', ScriptListSchema, call);
    return { txt2img: scripts.txt2img ?? [], img2img: scripts.img2img ?? [] };
  }

  /**
   * Rescans the checkpoint folder (`POST /sdapi/v1/refresh-checkpoints`). Forge runs this under
   * its generation lock, so it waits for a running generation: it gets `generationTimeoutMs`.
   */
  async refreshCheckpoints(call?: ForgeCallOptions): Promise<void> {
    await this.#post('/sdapi/v1/refresh-checkpoints', undefined, AnyJsonSchema, call, 'generation');
  }

  /** Rescans the LoRA folder (`POST /sdapi/v1/refresh-loras`). */
  async refreshLoras(call?: ForgeCallOptions): Promise<void> {
    await this.#post('/sdapi/v1/refresh-loras', undefined, AnyJsonSchema, call);
  }

  /** Reads the generation parameters stored in an image (`POST /sdapi/v1/png-info`). */
  async pngInfo(image: ImageInput, call?: ForgeCallOptions): Promise<PngInfoResponse> {
    const body = { image: imageToBase64(image, 'image') };
    return this.#post('/sdapi/v1/png-info', body, PngInfoResponseSchema, call);
  }

  /** Reads RAM and CUDA memory use (`GET /sdapi/v1/memory`). */
  async memory(call?: ForgeCallOptions): Promise<MemoryReport> {
    return this.#get('/sdapi/v1/memory', MemoryReportSchema, call);
  }

  /**
   * Checks that Forge answers (`GET /internal/ping`). Forge started with `--nowebui` has no
   * `/internal/*` routes and answers 404 (`FT_ERR_FORGE_NOT_FOUND`).
   */
  async ping(call?: ForgeCallOptions): Promise<void> {
    await this.#get('/internal/ping', AnyJsonSchema, call);
  }

  /** Closes the connection pool after the requests in flight have finished. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  /** Closes the connection pool at once; requests in flight fail with `FT_ERR_FORGE_ABORTED`. */
  async destroy(): Promise<void> {
    await this.#transport.destroy();
  }

  async #get<Output>(
    path: string,
    schema: z.ZodType<Output>,
    call: ForgeCallOptions | undefined,
  ): Promise<Output> {
    return this.#transport.request({ method: 'GET', path, schema, kind: 'probe' }, call);
  }

  async #post<Output>(
    path: string,
    body: unknown,
    schema: z.ZodType<Output>,
    call: ForgeCallOptions | undefined,
    kind: ForgeRequestKind = 'probe',
  ): Promise<Output> {
    return this.#transport.request({ method: 'POST', path, body, schema, kind }, call);
  }

  async #postRaw(
    path: string,
    body: unknown,
    call: ForgeCallOptions | undefined,
  ): Promise<Uint8Array> {
    return this.#transport.requestBytes({ method: 'POST', path, body, kind: 'generation' }, call);
  }
}

function withHiresModules(request: Txt2ImgRequest): Txt2ImgRequest {
  if (request.enable_hr !== true || request.hr_additional_modules != null) return request;
  return { ...request, hr_additional_modules: [HIRES_SAME_MODULES] };
}

function encodeImg2Img(input: Img2ImgInput): Img2ImgRequest {
  const { init_images: initImages, mask, ...rest } = input;
  const body: Img2ImgRequest = rest;
  if (initImages != null) {
    body.init_images = initImages.map((image, index) =>
      imageToBase64(image, `init_images[${index}]`),
    );
  } else if (initImages === null) {
    body.init_images = null;
  }
  if (mask != null) body.mask = imageToBase64(mask, 'mask');
  else if (mask === null) body.mask = null;
  return body;
}

function imageToBase64(image: ImageInput, field: string): string {
  if (typeof image === 'string') return image;
  if (image instanceof Uint8Array) {
    return Buffer.from(image.buffer, image.byteOffset, image.byteLength).toString('base64');
  }
  throw new TypeError(`${field} must be a Buffer, a Uint8Array or a base64 string`);
}
