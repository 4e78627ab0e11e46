/**
 * The extra network files of the fake install: the VAE and text-encoder modules of
 * `/sdapi/v1/sd-modules` and the LoRAs of `/sdapi/v1/loras`, with the LoRA short hashes that
 * infotexts list.
 */
import { FORGE_ROOT } from './system.js';

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
