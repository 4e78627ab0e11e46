/**
 * The read-only list endpoints: what the simulated install has (forge-api.md §3).
 */
import {
  checkpointListing,
  CMD_FLAGS,
  LATENT_UPSCALE_MODES,
  LORAS,
  memoryReport,
  MODULES,
  PROMPT_STYLES,
  SAMPLERS,
  SCHEDULERS,
  SCRIPT_INFO,
  SCRIPTS,
  UPSCALERS,
} from '../catalog/index.js';
import type { SimContext } from '../engine/sim-context.js';
import type { Route } from '../http/router.js';
import { pyFloat } from '../python-format.js';
import { ok, route } from './route-kit.js';

/** Routes that list models, samplers, scripts and the like. */
export function infoRoutes(context: SimContext): Route[] {
  return [
    route('GET', '/sdapi/v1/cmd-flags', () => ok(commandFlags(context))),
    route('GET', '/sdapi/v1/samplers', () => ok(SAMPLERS)),
    route('GET', '/sdapi/v1/schedulers', () => ok(SCHEDULERS)),
    route('GET', '/sdapi/v1/upscalers', () => ok(upscalers())),
    route('GET', '/sdapi/v1/latent-upscale-modes', () => ok(LATENT_UPSCALE_MODES)),
    route('GET', '/sdapi/v1/sd-models', () => ok(checkpointListing(context.models.checkpoints))),
    route('GET', '/sdapi/v1/sd-modules', () => ok(MODULES)),
    route('GET', '/sdapi/v1/hypernetworks', () => ok([])),
    route('GET', '/sdapi/v1/face-restorers', () => ok(faceRestorers())),
    route('GET', '/sdapi/v1/realesrgan-models', () => ok(realesrganModels())),
    route('GET', '/sdapi/v1/prompt-styles', () => ok(PROMPT_STYLES)),
    route('GET', '/sdapi/v1/embeddings', () => ok({ loaded: {}, skipped: {} })),
    route('GET', '/sdapi/v1/memory', () => ok(memoryReport())),
    route('GET', '/sdapi/v1/scripts', () => ok(SCRIPTS)),
    route('GET', '/sdapi/v1/script-info', () => ok(SCRIPT_INFO)),
    route('GET', '/sdapi/v1/extensions', () => ok([])),
    // Added by the built-in LoRA extension with plain @app routes, so --api-auth does not apply.
    route('GET', '/sdapi/v1/loras', () => ok(LORAS), { auth: false }),
  ];
}

/** `vars(cmd_opts)`, with the flags this simulated start-up was given. */
function commandFlags(context: SimContext): Record<string, unknown> {
  const { settings } = context;
  return {
    ...CMD_FLAGS,
    port: settings.port,
    listen: settings.host !== '127.0.0.1' && settings.host !== 'localhost',
    api_auth: settings.apiAuth === '' ? null : settings.apiAuth,
    nowebui: settings.mode === 'nowebui',
  };
}

/** `UpscalerItem.scale` is `Optional[float]`, so pydantic prints it as `4.0`. */
function upscalers(): unknown[] {
  return UPSCALERS.map((entry) => ({
    ...entry,
    scale: entry.scale === null ? null : pyFloat(entry.scale),
  }));
}

function faceRestorers(): unknown[] {
  return [
    { name: 'CodeFormer', cmd_dir: '/opt/forge/models/Codeformer' },
    { name: 'GFPGAN', cmd_dir: null },
  ];
}

function realesrganModels(): unknown[] {
  return UPSCALERS.filter((entry) => entry.name.startsWith('R-ESRGAN')).map((entry) => ({
    name: entry.name,
    path: entry.model_path,
    scale: entry.scale,
  }));
}
