/**
 * One txt2img/img2img generation, run while holding the FIFO lock, following Forge's
 * `process_images` → `process_images_inner` → `sample` / `sample_hr_pass` step by step:
 *
 * 1. `state.begin`, `start_task`, then (fault) the hang.
 * 2. Apply `override_settings` (an unknown checkpoint there is dropped), load the model when the
 *    loading parameters changed, restore the settings at the end unless asked not to.
 * 3. Resolve seeds and prompts (styles), then `init`: hires bookkeeping (`job_count` doubles)
 *    or img2img batch rules; `job_count = n_iter` when nothing set it.
 * 4. Per batch: stop if interrupted, clear a stale skip, sample `steps` steps (each step checks
 *    the interrupt and skip flags first), hires pass unless interrupted, decode, `nextjob`.
 * 5. A grid is prepended when images are saved and there are two or more; `state.end`.
 */
import {
  extraScheduleType,
  SAMPLERS,
  checkpointStem,
  type CheckpointRecord,
} from '../catalog/index.js';
import { PythonException } from '../http/errors.js';
import { synthesizeImage, MAX_SYNTH_SIDE } from '../image-synth.js';
import { encodePng, type RgbImage } from '../png.js';
import { createProcessing } from './create-processing.js';
import { cudaOutOfMemory, injectedFailure, type FaultPlan } from './faults.js';
import type { PreparedGeneration } from './generation-request.js';
import { imageGrid } from './image-grid.js';
import { decodeImageInput } from './image-input.js';
import type { ProbedImage } from './image-probe.js';
import { imageInfotext, processedInfo, type Processing } from './processing.js';
import { activateLoras, initHires, initImg2Img, type HiresPlan } from './processing-init.js';
import type { SimContext } from './sim-context.js';

/** What a finished generation returns. */
export interface GenerationOutput {
  /** PNG files: the grid first when there is one, then one per image. */
  readonly images: readonly Buffer[];
  /** The response's `info` string. */
  readonly info: string;
}

/** The largest latent work the simulated 24 GiB card takes before CUDA runs out of memory. */
const MAX_BATCH_PIXELS = 4096 * 4096;

/** A sampling run: how many steps, at what size, for which images. */
interface SamplingRun {
  readonly samplingSteps: number;
  readonly width: number;
  readonly height: number;
  readonly seeds: readonly number[];
  readonly prompts: readonly string[];
  readonly firstPassOfFirstBatch: boolean;
}

/** Runs one generation; create one per request. */
export class GenerationRun {
  readonly #context: SimContext;
  readonly #request: PreparedGeneration;
  readonly #plan: FaultPlan;
  #initImages: ProbedImage[] = [];
  /** PNG files encoded ahead, during the decode time, with the text they were encoded with. */
  readonly #drafts = new Map<RgbImage, PngDraft>();

  constructor(context: SimContext, request: PreparedGeneration, plan: FaultPlan) {
    this.#context = context;
    this.#request = request;
    this.#plan = plan;
  }

  /** Runs the generation; the caller holds the lock and queued the task. */
  async execute(): Promise<GenerationOutput> {
    const { state, tasks } = this.#context;
    this.#context.startWorkClock();
    if (this.#request.mode === 'img2img') await this.#decodeInitImages();
    state.begin(this.#request.mode === 'txt2img' ? 'scripts_txt2img' : 'scripts_img2img');
    tasks.start(this.#request.taskId);
    try {
      if (this.#plan.hangMs > 0) {
        this.#context.stats.hung += 1;
        await this.#context.stall(this.#plan.hangMs);
        this.#context.startWorkClock();
      }
      const output = await this.#processImages();
      tasks.finish(this.#request.taskId);
      return output;
    } finally {
      state.end();
    }
  }

  async #decodeInitImages(): Promise<void> {
    const encoded = this.#request.values.list('init_images') ?? [];
    const option = (key: string): unknown => this.#context.options.get(key);
    for (const entry of encoded) {
      if (typeof entry !== 'string') {
        throw new PythonException(
          'AttributeError',
          `'${typeof entry === 'number' ? 'int' : 'dict'}' object has no attribute 'startswith'`,
        );
      }
      this.#initImages.push(await decodeImageInput(entry, option));
    }
  }

  /** `process_images`: settings overrides around the real work. */
  async #processImages(): Promise<GenerationOutput> {
    const { options, models } = this.#context;
    const overrides = this.#request.values.record('override_settings') ?? {};
    const stored = options.snapshot(Object.keys(overrides));
    try {
      const checkpoint = overrides['sd_model_checkpoint'];
      if (typeof checkpoint !== 'string' || !models.findExact(checkpoint)) {
        // Forge pops it from the request's own dict, so the echoed parameters lose it too.
        delete overrides['sd_model_checkpoint'];
      }
      options.setConfig(overrides);
      await this.#ensureModelLoaded();
      return await this.#processInner();
    } finally {
      if (this.#request.values.raw('override_settings_restore_afterwards'))
        options.setConfig(stored);
    }
  }

  /** `forge_model_reload`: pays the load time when the loading parameters changed. */
  async #ensureModelLoaded(): Promise<CheckpointRecord> {
    const { models, options, settings } = this.#context;
    if (models.needsLoad()) {
      await this.#context.wait(settings.loadMs);
      const loaded = models.completeLoad();
      options.assign('sd_checkpoint_hash', loaded.sha256);
      this.#context.log(`loaded checkpoint ${checkpointStem(loaded)}`);
    }
    const loaded = models.loaded;
    if (!loaded) throw new PythonException('ValueError', 'You do not have any model!');
    return loaded;
  }

  /** `process_images_inner`. */
  async #processInner(): Promise<GenerationOutput> {
    const p = createProcessing(this.#request, this.#context, await this.#ensureModelLoaded());
    const hires = initHires(this.#request, p, this.#context);
    if (this.#request.mode === 'img2img')
      initImg2Img(this.#request.values, p, this.#initImages.length);
    const { state } = this.#context;
    if (state.jobCount === -1) state.jobCount = p.nIter;

    const images: RgbImage[] = [];
    const infotexts: string[] = [];
    for (let batch = 0; batch < p.nIter; batch++) {
      if (state.skipped) state.skipped = false;
      if (state.interrupted) break;
      const produced = await this.#runBatch(p, hires, batch);
      if (produced === null) break;
      images.push(...produced.images);
      infotexts.push(...produced.infotexts);
    }
    if (state.interrupted) this.#context.stats.interrupted += 1;
    return await this.#finish(p, images, infotexts);
  }

  /** One iteration of the batch loop; null when the batch has no prompts (Forge breaks). */
  async #runBatch(
    p: Processing,
    hires: HiresPlan | null,
    batch: number,
  ): Promise<{ images: RgbImage[]; infotexts: string[] } | null> {
    await this.#ensureModelLoaded();
    const first = batch * p.batchSize;
    const prompts = p.allPrompts.slice(first, first + p.batchSize);
    const seeds = p.allSeeds.slice(first, first + p.batchSize);
    if (prompts.length === 0) return null;
    activateLoras(this.#request.values, this.#context.options, p, prompts);
    const { state } = this.#context;
    if (p.nIter > 1) state.job = `Batch ${batch + 1} out of ${p.nIter}`;

    const firstPass = this.#firstPassRun(p, prompts, seeds, batch === 0);
    this.#checkMemory(firstPass, prompts.length);
    const scheduleType = extraScheduleType(p.sampler, p.scheduler);
    if (scheduleType !== null) p.extra.set('Schedule type', scheduleType);
    let fraction = await this.#sample(firstPass);
    let size = { width: p.width, height: p.height };
    if (hires) {
      const result = await this.#hiresPass(p, hires, prompts, seeds, fraction);
      fraction = result.fraction;
      size = result.size;
    }
    const images = await this.#decodeImages(p, first, prompts, seeds, size, fraction);
    state.nextjob();
    const infotexts = prompts.map((_, offset) =>
      imageInfotext(p, this.#context.options, first + offset),
    );
    return { images, infotexts };
  }

  #firstPassRun(
    p: Processing,
    prompts: readonly string[],
    seeds: readonly number[],
    firstBatch: boolean,
  ): SamplingRun {
    return {
      samplingSteps: this.#request.mode === 'img2img' ? this.#img2imgSteps(p) : p.steps,
      width: p.width,
      height: p.height,
      seeds,
      prompts,
      firstPassOfFirstBatch: firstBatch,
    };
  }

  /** `setup_img2img_steps`: only the denoised part of the schedule is sampled. */
  #img2imgSteps(p: Processing): number {
    if (this.#context.options.get('img2img_fix_steps')) return p.steps;
    const strength = Number(p.denoisingStrength ?? 0);
    return Math.trunc(Math.min(strength, 0.999) * p.steps) + 1;
  }

  /** Size checks Forge leaves to PyTorch: tiny latents fail, huge ones run out of memory. */
  #checkMemory(run: SamplingRun, batchSize: number): void {
    if (run.samplingSteps < 0)
      throw new PythonException('RuntimeError', 'number of steps must be non-negative');
    if (run.width < 8 || run.height < 8) {
      throw new PythonException(
        'RuntimeError',
        `image size ${run.width}x${run.height} is below the 8x8 minimum of one latent cell`,
      );
    }
    if (
      run.width > MAX_SYNTH_SIDE ||
      run.height > MAX_SYNTH_SIDE ||
      run.width * run.height * batchSize > MAX_BATCH_PIXELS
    ) {
      this.#context.stats.outOfMemory += 1;
      throw cudaOutOfMemory(run.width * run.height * batchSize);
    }
  }

  /**
   * The sampler loop. Each step first checks the interrupt and skip flags (Forge's CFG denoiser
   * raises there), then works `stepMs`, then reports the step. Returns how much of the run was
   * denoised, 0 to 1.
   */
  async #sample(run: SamplingRun): Promise<number> {
    const { state, settings, stats } = this.#context;
    const latent = {
      width: run.width,
      height: run.height,
      seed: run.seeds[0] ?? 0,
      prompt: run.prompts[0] ?? '',
    };
    state.startSampling(run.samplingSteps);
    state.setLatent({ ...latent, denoise: 0 });
    let done = 0;
    for (let step = 0; step < run.samplingSteps; step++) {
      if (state.interrupted || state.skipped) break;
      this.#injectFaults(run, step);
      await this.#context.wait(settings.stepMs);
      done = step + 1;
      state.stepDone(step, { ...latent, denoise: done / run.samplingSteps });
    }
    if (state.skipped && done < run.samplingSteps) stats.skipped += 1;
    return run.samplingSteps === 0 ? 0 : done / run.samplingSteps;
  }

  #injectFaults(run: SamplingRun, step: number): void {
    if (!run.firstPassOfFirstBatch) return;
    const { failure } = this.#plan;
    if (failure === 'oom' && step === 0) {
      this.#context.stats.outOfMemory += 1;
      throw cudaOutOfMemory(run.width * run.height * run.seeds.length);
    }
    if (failure === 'generic' && step === Math.floor(run.samplingSteps / 2)) {
      this.#context.stats.injectedFailures += 1;
      throw injectedFailure();
    }
  }

  async #decode(count: number): Promise<void> {
    await this.#context.wait(this.#context.settings.imageMs * count);
  }

  /** The end of `sample` plus `sample_hr_pass`, up to the batch's final decode. */
  async #hiresPass(
    p: Processing,
    hires: HiresPlan,
    prompts: readonly string[],
    seeds: readonly number[],
    firstFraction: number,
  ): Promise<{ fraction: number; size: { width: number; height: number } }> {
    if (!hires.upscalerIsLatent) await this.#decode(prompts.length);
    await this.#switchHiresModel(p, hires);
    const { state } = this.#context;
    if (state.interrupted) {
      // sample_hr_pass returns the first-pass latents, which the batch loop then decodes.
      return { fraction: firstFraction, size: { width: p.width, height: p.height } };
    }
    state.nextjob();
    if (!SAMPLERS.some((entry) => entry.name === hires.sampler)) {
      throw new PythonException('AssertionError', `bad sampler name: ${hires.sampler}`);
    }
    this.#hiresScheduleType(p, hires);
    const strength = p.denoisingStrength;
    if (strength === null) {
      throw new PythonException(
        'TypeError',
        "'>' not supported between instances of 'NoneType' and 'int'",
      );
    }
    const run: SamplingRun = {
      samplingSteps: hires.steps,
      width: hires.target.width,
      height: hires.target.height,
      seeds,
      prompts,
      firstPassOfFirstBatch: false,
    };
    this.#checkMemory(run, prompts.length);
    const fraction = await this.#sample(run);
    return { fraction, size: { width: run.width, height: run.height } };
  }

  /**
   * The hires model switch of `sample`: `hr_additional_modules` (Forge crashes on null here)
   * and `hr_checkpoint_name` load another model for the second pass, then the first-pass choice
   * is restored so the next batch loads it back.
   */
  async #switchHiresModel(p: Processing, hires: HiresPlan): Promise<void> {
    const { options, models } = this.#context;
    const modules = this.#request.values.list('hr_additional_modules');
    if (modules === null) {
      throw new PythonException('TypeError', "argument of type 'NoneType' is not iterable");
    }
    const firstCheckpoint = options.get('sd_model_checkpoint');
    const firstModules = options.get('forge_additional_modules');
    let reload = false;
    if (!modules.includes('Use same choices')) reload = options.changeModules(modules) || reload;
    if (hires.checkpointName) reload = options.changeCheckpoint(hires.checkpointName) || reload;
    if (reload) {
      try {
        options.refreshModelLoading();
        await this.#ensureModelLoaded();
      } finally {
        options.changeModules(firstModules ?? []);
        options.changeCheckpoint(typeof firstCheckpoint === 'string' ? firstCheckpoint : null);
        options.refreshModelLoading();
      }
    }
    if (models.loaded?.family === 'flux') {
      p.extra.set('Hires Distilled CFG Scale', this.#request.values.pyNumber('hr_distilled_cfg'));
    }
  }

  #hiresScheduleType(p: Processing, hires: HiresPlan): void {
    const label = extraScheduleType(hires.sampler, hires.scheduler ?? 'Automatic');
    if (label !== null && label !== p.extra.get('Schedule type'))
      p.extra.set('Hires schedule type', label);
  }

  /**
   * The batch's final decode. The images are rendered and their PNG files encoded before the
   * decode time is paid, so that this work happens inside `imageMs` (see `SimContext.wait`);
   * nothing observable depends on them before the decode ends, and `#finish` re-encodes any
   * image whose text changed meanwhile.
   */
  async #decodeImages(
    p: Processing,
    first: number,
    prompts: readonly string[],
    seeds: readonly number[],
    size: { width: number; height: number },
    fraction: number,
  ): Promise<RgbImage[]> {
    const { options } = this.#context;
    const withText = Boolean(options.get('enable_pnginfo'));
    const images: RgbImage[] = [];
    const denoise = Math.min(Math.max(fraction, 0), 1);
    for (const [offset, prompt] of prompts.entries()) {
      const image = synthesizeImage({ ...size, seed: seeds[offset] ?? 0, prompt, denoise });
      const text = withText ? imageInfotext(p, options, first + offset) : null;
      this.#drafts.set(image, { text, png: encodeWithText(image, text) });
      images.push(image);
      await this.#context.wait(0);
    }
    await this.#decode(prompts.length);
    return images;
  }

  /** The end of `process_images_inner`: grid, PNG encoding, `Processed.js()`. */
  async #finish(p: Processing, images: RgbImage[], infotexts: string[]): Promise<GenerationOutput> {
    const { options, state } = this.#context;
    if (infotexts.length === 0) infotexts.push(imageInfotext(p, options, 0));
    let indexOfFirstImage = 0;
    const all = [...images];
    const saveImages = this.#request.values.flag('save_images') === true;
    const wantsGrid = options.get('return_grid') || options.get('grid_save');
    const unwanted = images.length < 2 && options.get('grid_only_if_multiple');
    if (saveImages && wantsGrid && !unwanted && images.length > 0 && options.get('return_grid')) {
      all.unshift(imageGrid(images, String(options.get('grid_background_color') ?? '#ffffff')));
      infotexts.unshift(imageInfotext(p, options, 0, true));
      indexOfFirstImage = 1;
    }
    const withText = Boolean(options.get('enable_pnginfo'));
    const files: Buffer[] = [];
    for (const [index, image] of all.entries()) {
      files.push(this.#encoded(image, withText ? (infotexts[index] ?? '') : null));
      await this.#context.wait(0);
    }
    return {
      images: files,
      info: processedInfo(p, options, infotexts, indexOfFirstImage, state.jobTimestamp),
    };
  }

  /** The image's PNG file with that text: the draft when it was encoded with the same text. */
  #encoded(image: RgbImage, text: string | null): Buffer {
    const draft = this.#drafts.get(image);
    return draft !== undefined && draft.text === text ? draft.png : encodeWithText(image, text);
  }
}

/** A PNG file encoded ahead of time, and the `parameters` text it holds (null: none). */
interface PngDraft {
  readonly text: string | null;
  readonly png: Buffer;
}

function encodeWithText(image: RgbImage, text: string | null): Buffer {
  return encodePng(image, text === null ? [] : [['parameters', text]]);
}
