/**
 * Builds the processing object of one generation from its request: what Forge's
 * `StableDiffusionProcessing` holds once the API handler constructed it and
 * `process_images_inner` set up its prompts (styles applied) and seed lists, with the checks
 * Forge makes on the way (sizes, image count, refiner checkpoint).
 */
import { applyStyles, closestCheckpoint, type CheckpointRecord } from '../catalog/index.js';
import { PythonException } from '../http/errors.js';
import { pyFloat } from '../python-format.js';
import { resolveSeeds } from '../seeds.js';
import type { PreparedGeneration } from './generation-request.js';
import type { Processing } from './processing.js';
import { requireNumber } from './processing-init.js';
import type { SimContext } from './sim-context.js';

/** Python would build lists this long; the simulator refuses before allocating them. */
const MAX_IMAGES_PER_REQUEST = 100_000;

/** Reads and checks the request into the processing object (seeds, prompts, model). */
export function createProcessing(
  request: PreparedGeneration,
  context: SimContext,
  checkpoint: CheckpointRecord,
): Processing {
  const { values, mode } = request;
  const { options } = context;
  const [width, height] = firstPassSize(request);
  const batch = promptsAndSeeds(request, context);
  checkRefiner(request, context);
  return {
    mode,
    ...batch,
    steps: requireNumber(values.number('steps'), 'steps'),
    width,
    height,
    sampler: request.sampler,
    scheduler: request.scheduler,
    cfgScale: requireNumber(values.pyNumber('cfg_scale'), 'cfg_scale'),
    distilledCfgScale: values.pyNumber('distilled_cfg_scale') ?? pyFloat(3.5),
    subseedStrength: values.pyNumber('subseed_strength'),
    denoisingStrength: values.pyNumber('denoising_strength'),
    seedResizeFromW: values.number('seed_resize_from_w') ?? -1,
    seedResizeFromH: values.number('seed_resize_from_h') ?? -1,
    restoreFaces: values.flag('restore_faces') ?? Boolean(options.get('face_restoration')),
    tiling: values.flag('tiling') ?? Boolean(options.get('tiling')),
    checkpoint,
    distilledCfg: checkpoint.family === 'flux',
    extra: new Map(),
  };
}

/** `setup_prompts` and the seed lists: one styled prompt and one seed per image. */
function promptsAndSeeds(request: PreparedGeneration, context: SimContext) {
  const { values } = request;
  const prompt = values.raw('prompt');
  if (prompt === null) throw new PythonException('AssertionError', '');
  const promptText = String(prompt);
  const negativeText = values.text('negative_prompt') ?? '';
  const batchSize = requireNumber(values.number('batch_size'), 'batch_size');
  const nIter = requireNumber(values.number('n_iter'), 'n_iter');
  const count = Math.max(0, batchSize) * Math.max(0, nIter);
  if (count > MAX_IMAGES_PER_REQUEST) {
    const message = `batch_size * n_iter = ${count} images is more than this server can hold`;
    throw new PythonException('MemoryError', message);
  }
  const seeds = resolveSeeds(
    values.raw('seed') as number | null,
    values.raw('subseed') as number | null,
    values.number('subseed_strength'),
    Math.max(count, 1),
    context.settings.random,
  );
  const styles = (values.list('styles') ?? []).map(String);
  const styled = applyStyles(promptText, negativeText, styles);
  return {
    prompt: promptText,
    negativePrompt: negativeText,
    styles,
    allPrompts: Array.from({ length: count }, () => styled.prompt),
    allNegativePrompts: Array.from({ length: count }, () => styled.negativePrompt),
    // With no image at all, Processed falls back to the first seed alone.
    allSeeds: count === 0 ? [seeds.seed] : seeds.allSeeds,
    allSubseeds: count === 0 ? [seeds.subseed] : seeds.allSubseeds,
    batchSize,
    nIter,
  };
}

/** `p.width`/`p.height`, after txt2img's `firstphase_*` swap. */
function firstPassSize(request: PreparedGeneration): [number, number] {
  const { values, mode } = request;
  const width = requireNumber(values.number('width'), 'width');
  const height = requireNumber(values.number('height'), 'height');
  if (mode !== 'txt2img') return [width, height];
  const firstWidth = values.number('firstphase_width') ?? 0;
  const firstHeight = values.number('firstphase_height') ?? 0;
  return firstWidth !== 0 || firstHeight !== 0 ? [firstWidth, firstHeight] : [width, height];
}

function checkRefiner(request: PreparedGeneration, context: SimContext): void {
  const refiner = request.values.text('refiner_checkpoint');
  if (refiner === null || ['', 'None', 'none'].includes(refiner)) return;
  if (!closestCheckpoint(context.models.checkpoints, refiner)) {
    throw new PythonException('Exception', `Could not find checkpoint with name ${refiner}`);
  }
}
