/**
 * Forge's global job state (`modules/shared_state.py` `State`) and the two progress routes that
 * read it (`/sdapi/v1/progress` in `modules/api/api.py`, `/internal/progress` in
 * `modules/progress.py`).
 *
 * State machine of one generation, as Forge drives it:
 *
 * ```
 * idle (job_count 0) --begin--> job_count -1 --job_count = n_iter (x2 with hires)-->
 *   [sampling_step 0..steps-1, nextjob: job_no += 1] per batch and hires pass --end--> idle
 * ```
 *
 * `end()` only clears `job` and `job_count`; every other field, the interrupted and skipped
 * flags included, keeps its last value until the next `begin()`.
 */
import { encodePng } from '../png.js';
import { synthesizeImage } from '../image-synth.js';
import { pyFloat } from '../python-format.js';

/** What the sampler is working on, enough to render a live preview of it. */
export interface LatentPreview {
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  readonly prompt: string;
  /** How far denoising has come, 0 to 1. */
  readonly denoise: number;
}

/** The options that govern live previews, read at the moment a preview could be made. */
export interface PreviewSettings {
  /** `live_previews_enable`. */
  readonly enabled: boolean;
  /** `show_progress_every_n_steps`; -1 means "once per finished batch". */
  readonly everyNSteps: number;
  /** `live_previews_image_format` (the simulator always encodes PNG). */
  readonly format: string;
}

/** `State.dict()`: always these nine keys, in this order. */
export interface StateDict {
  readonly skipped: boolean;
  readonly interrupted: boolean;
  readonly stopping_generation: boolean;
  readonly job: string;
  readonly job_count: number;
  readonly job_timestamp: string;
  readonly job_no: number;
  readonly sampling_step: number;
  readonly sampling_steps: number;
}

/** The global state of the one generation Forge runs at a time. */
export class SharedState {
  skipped = false;
  interrupted = false;
  stoppingGeneration = false;
  job = '';
  jobNo = 0;
  jobCount = 0;
  /** Whether hires already doubled `jobCount` for this job. */
  processingHasRefinedJobCount = false;
  jobTimestamp = '0';
  samplingStep = 0;
  samplingSteps = 0;
  textinfo: string | null = null;
  idLivePreview = 0;

  readonly #clock: () => number;
  readonly #settings: () => PreviewSettings;
  #timeStartMs = 0;
  #currentLatent: LatentPreview | null = null;
  #currentImage: Buffer | null = null;
  #currentImageSamplingStep = 0;

  /**
   * @param clock - milliseconds since the epoch (`Date.now` outside tests)
   * @param settings - reads the live-preview options when they are needed
   */
  constructor(clock: () => number, settings: () => PreviewSettings) {
    this.#clock = clock;
    this.#settings = settings;
  }

  /** `State.begin`: a new job starts, clearing the flags and the previous preview. */
  begin(job: string): void {
    this.samplingStep = 0;
    this.#timeStartMs = this.#clock();
    this.jobCount = -1;
    this.processingHasRefinedJobCount = false;
    this.jobNo = 0;
    this.jobTimestamp = formatJobTimestamp(new Date(this.#timeStartMs));
    this.#currentLatent = null;
    this.#currentImage = null;
    this.#currentImageSamplingStep = 0;
    this.idLivePreview = 0;
    this.skipped = false;
    this.interrupted = false;
    this.stoppingGeneration = false;
    this.textinfo = null;
    this.job = job;
  }

  /** Back to the state of a server that never ran a job (the simulator's reset route). */
  reset(): void {
    this.begin('');
    this.end();
    this.jobTimestamp = '0';
    this.#timeStartMs = 0;
  }

  /** `State.end`: only the job name and count reset. */
  end(): void {
    this.job = '';
    this.jobCount = 0;
  }

  /** `State.nextjob`: a batch or a hires pass finished. */
  nextjob(): void {
    const settings = this.#settings();
    if (settings.enabled && settings.everyNSteps === -1) this.#renderCurrentImage();
    this.jobNo += 1;
    this.samplingStep = 0;
    this.#currentImageSamplingStep = 0;
  }

  /** `POST /sdapi/v1/interrupt`. */
  interrupt(): void {
    this.interrupted = true;
  }

  /** `POST /sdapi/v1/skip`. */
  skip(): void {
    this.skipped = true;
  }

  /** The sampler's `launch_sampling`: a sampling run of `steps` steps starts. */
  startSampling(steps: number): void {
    this.samplingSteps = steps;
    this.samplingStep = 0;
  }

  /** The sampler's step callback: step `step` (0-based) is done and its latent is `latent`. */
  stepDone(step: number, latent: LatentPreview): void {
    this.samplingStep = step;
    this.#currentLatent = latent;
  }

  /** Records the latent a sampling run starts from, before its first step completes. */
  setLatent(latent: LatentPreview): void {
    this.#currentLatent = latent;
  }

  /** Milliseconds since the current (or last) job began. */
  elapsedMs(): number {
    return this.#clock() - this.#timeStartMs;
  }

  dict(): StateDict {
    return {
      skipped: this.skipped,
      interrupted: this.interrupted,
      stopping_generation: this.stoppingGeneration,
      job: this.job,
      job_count: this.jobCount,
      job_timestamp: this.jobTimestamp,
      job_no: this.jobNo,
      sampling_step: this.samplingStep,
      sampling_steps: this.samplingSteps,
    };
  }

  /**
   * The body of `GET /sdapi/v1/progress`.
   *
   * Forge adds 0.01 so the division never sees zero, computes the ETA from that unclamped value
   * and only then clamps the reported progress to 1.
   */
  progressResponse(skipCurrentImage: boolean): Record<string, unknown> {
    if (this.jobCount === 0) {
      return progressBody(0, 0, this.dict(), null, this.textinfo);
    }
    let progress = 0.01;
    if (this.jobCount > 0) progress += this.jobNo / this.jobCount;
    if (this.samplingSteps > 0) {
      progress += ((1 / this.jobCount) * this.samplingStep) / this.samplingSteps;
    }
    const elapsed = this.elapsedMs() / 1000;
    const etaRelative = elapsed / progress - elapsed;
    this.#maybeRenderCurrentImage();
    const image =
      this.#currentImage && !skipCurrentImage ? this.#currentImage.toString('base64') : null;
    return progressBody(Math.min(progress, 1), etaRelative, this.dict(), image, this.textinfo);
  }

  /**
   * The body of `POST /internal/progress` for the running task: no 0.01 offset, and a data-URL
   * preview only when it is newer than the one the caller already has.
   */
  activeTaskProgress(idLivePreview: number, livePreview: boolean): Record<string, unknown> {
    let progress = 0;
    if (this.jobCount > 0) progress += this.jobNo / this.jobCount;
    if (this.samplingSteps > 0 && this.jobCount > 0) {
      progress += ((1 / this.jobCount) * this.samplingStep) / this.samplingSteps;
    }
    progress = Math.min(progress, 1);
    const elapsed = this.elapsedMs() / 1000;
    const eta = progress > 0 ? elapsed / progress - elapsed : null;

    let preview: string | null = null;
    let previewId = idLivePreview;
    const settings = this.#settings();
    if (settings.enabled && livePreview) {
      this.#maybeRenderCurrentImage();
      if (this.idLivePreview !== idLivePreview && this.#currentImage) {
        preview = `data:image/${settings.format};base64,${this.#currentImage.toString('base64')}`;
        previewId = this.idLivePreview;
      }
    }
    return {
      active: true,
      queued: false,
      completed: false,
      progress: pyFloat(progress),
      eta: eta === null ? null : pyFloat(eta),
      live_preview: preview,
      id_live_preview: previewId,
      textinfo: this.textinfo,
    };
  }

  /** `State.set_current_image`: renders a preview once enough steps passed since the last. */
  #maybeRenderCurrentImage(): void {
    const { enabled, everyNSteps } = this.#settings();
    if (!enabled || everyNSteps === -1) return;
    if (this.samplingStep - this.#currentImageSamplingStep < everyNSteps) return;
    this.#renderCurrentImage();
  }

  /** `State.do_set_current_image`. */
  #renderCurrentImage(): void {
    const latent = this.#currentLatent;
    if (!latent) return;
    const image = synthesizeImage({ ...latent, denoise: Math.min(Math.max(latent.denoise, 0), 1) });
    this.#currentImage = encodePng(image);
    this.idLivePreview += 1;
    this.#currentImageSamplingStep = this.samplingStep;
  }
}

function progressBody(
  progress: number,
  etaRelative: number,
  state: StateDict,
  currentImage: string | null,
  textinfo: string | null,
): Record<string, unknown> {
  return {
    progress: pyFloat(progress),
    eta_relative: pyFloat(etaRelative),
    state,
    current_image: currentImage,
    textinfo,
  };
}

/** Python's `datetime.now().strftime("%Y%m%d%H%M%S")` in local time. */
export function formatJobTimestamp(date: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return (
    String(date.getFullYear()) +
    pad(date.getMonth() + 1) +
    pad(date.getDate()) +
    pad(date.getHours()) +
    pad(date.getMinutes()) +
    pad(date.getSeconds())
  );
}
