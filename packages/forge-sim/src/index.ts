/**
 * `@forge-tool/forge-sim`: a standalone HTTP server that answers like a Stable Diffusion WebUI
 * Forge started with `--api`, with synthetic images instead of a GPU.
 *
 * @example
 * import { startForgeSim } from '@forge-tool/forge-sim';
 * const sim = await startForgeSim({ port: 0, stepMs: 5 });
 * // point a Forge client at sim.url ...
 * await sim.close();
 */
export { startForgeSim, type ForgeSim } from './server.js';
export {
  DEFAULT_SIM_FAULTS,
  DEFAULT_SIM_OPTIONS,
  SimOptionsError,
  type ForgeSimOptions,
  type SimFaults,
} from './sim-options.js';
export type { SimStats } from './engine/sim-context.js';
export {
  DEFAULT_CHECKPOINTS,
  FORGE_VERSION,
  LORAS,
  MODULES,
  PROMPT_STYLES,
  SAMPLERS,
  SCHEDULERS,
  UPSCALERS,
  checkpointListing,
  type CheckpointRecord,
} from './catalog/index.js';
export { encodePng, readPngText, decodePngSize, type RgbImage } from './png.js';
export { synthesizeImage } from './image-synth.js';
export { parseGenerationParameters, createInfotext } from './infotext/index.js';
