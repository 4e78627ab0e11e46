/**
 * What a Forge install reports about itself rather than its models: the version string, the
 * install folder, the command-line flags of `/sdapi/v1/cmd-flags` and the memory report of
 * `/sdapi/v1/memory`.
 */
import { freemem, totalmem } from 'node:os';

import { pyFloat } from '../python-format.js';

/** The version Forge reports in infotexts and `info.version`: `"f" + version + "-" + git describe`. */
export const FORGE_VERSION = 'f2.0.1v1.10.1-previous-669-gdfdcbab6';

/** The install folder the simulator pretends to live in. */
export const FORGE_ROOT = '/opt/forge';

/**
 * `/sdapi/v1/cmd-flags` of a Forge started with `--api` only: every argparse destination of
 * Forge's `backend/args.py` and `modules/cmd_args.py`, with its default.
 */
export const CMD_FLAGS: Readonly<Record<string, unknown>> = {
  gpu_device_id: null,
  all_in_fp32: false,
  all_in_fp16: false,
  unet_in_bf16: false,
  unet_in_fp16: false,
  unet_in_fp8_e4m3fn: false,
  unet_in_fp8_e5m2: false,
  vae_in_fp16: false,
  vae_in_fp32: false,
  vae_in_bf16: false,
  vae_in_cpu: false,
  clip_in_fp8_e4m3fn: false,
  clip_in_fp8_e5m2: false,
  clip_in_fp16: false,
  clip_in_fp32: false,
  attention_split: false,
  attention_quad: false,
  attention_pytorch: false,
  force_upcast_attention: false,
  disable_attention_upcast: false,
  disable_xformers: false,
  directml: null,
  disable_ipex_hijack: false,
  always_gpu: false,
  always_high_vram: false,
  always_normal_vram: false,
  always_low_vram: false,
  always_no_vram: false,
  always_cpu: false,
  always_offload_from_vram: false,
  pytorch_deterministic: false,
  cuda_malloc: false,
  cuda_stream: false,
  pin_shared_memory: false,
  disable_gpu_warning: false,
  f: false,
  update_all_extensions: false,
  skip_python_version_check: false,
  skip_torch_cuda_test: false,
  reinstall_xformers: false,
  reinstall_torch: false,
  update_check: false,
  test_server: false,
  log_startup: false,
  skip_prepare_environment: false,
  skip_google_blockly: false,
  skip_install: false,
  dump_sysinfo: false,
  loglevel: null,
  do_not_download_clip: false,
  data_dir: '/opt/forge',
  models_dir: null,
  config: '/opt/forge/configs/v1-inference.yaml',
  ckpt: '/opt/forge/model.ckpt',
  ckpt_dir: null,
  vae_dir: null,
  text_encoder_dir: null,
  gfpgan_dir: './GFPGAN',
  gfpgan_model: null,
  no_half: false,
  no_half_vae: false,
  no_progressbar_hiding: false,
  max_batch_count: 16,
  embeddings_dir: '/opt/forge/embeddings',
  textual_inversion_templates_dir: '/opt/forge/textual_inversion_templates',
  hypernetwork_dir: '/opt/forge/models/hypernetworks',
  localizations_dir: '/opt/forge/localizations',
  allow_code: false,
  medvram: false,
  medvram_sdxl: false,
  lowvram: false,
  lowram: false,
  always_batch_cond_uncond: false,
  unload_gfpgan: false,
  precision: 'autocast',
  upcast_sampling: false,
  share: false,
  ngrok: null,
  ngrok_region: '',
  ngrok_options: {},
  enable_insecure_extension_access: false,
  codeformer_models_path: '/opt/forge/models/Codeformer',
  gfpgan_models_path: '/opt/forge/models/GFPGAN',
  esrgan_models_path: '/opt/forge/models/ESRGAN',
  bsrgan_models_path: '/opt/forge/models/BSRGAN',
  realesrgan_models_path: '/opt/forge/models/RealESRGAN',
  dat_models_path: '/opt/forge/models/DAT',
  clip_models_path: null,
  xformers: false,
  force_enable_xformers: false,
  xformers_flash_attention: false,
  deepdanbooru: false,
  opt_split_attention: false,
  opt_sub_quad_attention: false,
  sub_quad_q_chunk_size: 1024,
  sub_quad_kv_chunk_size: null,
  sub_quad_chunk_threshold: null,
  opt_split_attention_invokeai: false,
  opt_split_attention_v1: false,
  opt_sdp_attention: false,
  opt_sdp_no_mem_attention: false,
  disable_opt_split_attention: false,
  disable_nan_check: false,
  use_cpu: [],
  use_ipex: false,
  disable_model_loading_ram_optimization: false,
  listen: false,
  port: null,
  show_negative_prompt: false,
  ui_config_file: '/opt/forge/ui-config.json',
  hide_ui_dir_config: false,
  freeze_settings: false,
  freeze_settings_in_sections: null,
  freeze_specific_settings: null,
  ui_settings_file: '/opt/forge/config.json',
  gradio_debug: false,
  gradio_auth: null,
  gradio_auth_path: null,
  gradio_img2img_tool: null,
  gradio_inpaint_tool: null,
  gradio_allowed_path: ['/opt/forge'],
  opt_channelslast: false,
  styles_file: [],
  autolaunch: false,
  theme: null,
  use_textbox_seed: false,
  disable_console_progressbars: false,
  enable_console_prompts: false,
  vae_path: null,
  disable_safe_unpickle: false,
  api: true,
  api_auth: null,
  api_log: false,
  nowebui: false,
  ui_debug_mode: false,
  device_id: null,
  administrator: false,
  cors_allow_origins: null,
  cors_allow_origins_regex: null,
  tls_keyfile: null,
  tls_certfile: null,
  disable_tls_verify: null,
  server_name: null,
  gradio_queue: true,
  no_gradio_queue: false,
  skip_version_check: false,
  no_hashing: false,
  no_download_sd_model: false,
  subpath: null,
  add_stop_route: false,
  api_server_stop: false,
  timeout_keep_alive: 30,
  disable_all_extensions: false,
  disable_extra_extensions: false,
  skip_load_model_at_start: false,
  unix_filenames_sanitization: false,
  filenames_max_length: 128,
  no_prompt_history: false,
  forge_ref_a1111_home: null,
  controlnet_dir: null,
  controlnet_preprocessor_models_dir: null,
};

/** Which `/sdapi/v1/memory` shape to produce. */
export interface MemoryReportOptions {
  /**
   * Report an invented 24 GiB CUDA device instead of `cuda: {error: 'unavailable'}`.
   * @defaultValue false
   */
  readonly cuda?: boolean;
}

const GIB = 1024 ** 3;

/**
 * A `/sdapi/v1/memory` response. RAM uses the real process and machine numbers, computed the way
 * Forge does (total derived from the process's RSS and memory percentage, so `free` and `total`
 * are floats); CUDA is unavailable unless an invented device is requested.
 */
export function memoryReport(options: MemoryReportOptions = {}): Record<string, unknown> {
  const rss = process.memoryUsage().rss;
  const percent = (100 * rss) / totalmem();
  const total = (100 * rss) / percent;
  const ram = { free: pyFloat(total - rss), used: rss, total: pyFloat(total) };
  return { ram, cuda: options.cuda ? inventedCudaReport() : { error: 'unavailable' } };
}

function inventedCudaReport(): Record<string, unknown> {
  const total = 24 * GIB;
  const free = Math.min(total, Math.round(freemem() / 4) + 6 * GIB);
  return {
    system: { free, used: total - free, total },
    active: { current: 2_147_483_648, peak: 9_663_676_416 },
    allocated: { current: 2_147_483_648, peak: 9_663_676_416 },
    reserved: { current: 3_221_225_472, peak: 11_811_160_064 },
    inactive: { current: 104_857_600, peak: 1_610_612_736 },
    events: { retries: 0, oom: 0 },
  };
}
