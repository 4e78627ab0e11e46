/**
 * The upscalers of `/sdapi/v1/upscalers` and the latent upscale modes of
 * `/sdapi/v1/latent-upscale-modes`; together they are the valid `hr_upscaler` values.
 */
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
