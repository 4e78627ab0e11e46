/**
 * Runs one attempt of one job on one backend, from the Forge call to the stored result.
 *
 * ```
 *  prepare ---------> call Forge (poll progress) ---------> process images -> store -> complete
 *  (names for this     |   backend released here, so it       (worker threads)
 *   backend, images)   |   takes its next job while images are processed
 *                      +--> stopped (cancel / timeout / shutdown): interrupt, then record why
 *                      +--> failed: classify (attempt-failure.ts): retry, fail, or drop
 * ```
 *
 * Every store write names the attempt; when the attempt was given up meanwhile the store refuses
 * the write (`FT_ERR_STORE_CONFLICT`) and the runner drops its result quietly. That is what keeps
 * "completes exactly once" true when a slow backend answers late.
 */
import type { Img2ImgInput, Img2ImgRequest } from '../forge/generation-schemas.js';
import type { ImagePipeline, ProcessedImage } from '../images/image-pipeline.js';
import type { ImageStore } from '../images/image-store.js';
import { silentLogger, type Logger } from '../logger.js';
import { classifyFailure, retryDelayMs } from './attempt-failure.js';
import { cancelledError } from './job-errors.js';
import type { BackendPool, BackendRunReport } from './backend-pool.js';
import { applyBackendFit, checkAgainstCapabilities } from './capability-check.js';
import type { EngineEvents } from './engine-events.js';
import { buildForgeCall, type ForgeCall } from './forge-payload.js';
import type { ResolvedGenerationRequest } from './generation-request.js';
import { loadReferencedImages } from './image-references.js';
import type { JobStore } from './job-store.js';
import type { JobError, JobImage, JobProgress, JobRecord, JobResult } from './job.js';
import { ProgressPoller } from './progress-poller.js';
import type { RunningAttempt } from './running-attempt.js';

/** Settings of the {@link JobRunner}. */
export interface JobRunnerOptions {
  /** Pause between progress polls. */
  readonly progressIntervalMs: number;
  /** Least time between two live previews; 0 for none. */
  readonly previewIntervalMs: number;
  /** Deadline of each progress call. */
  readonly probeTimeoutMs: number;
  /** A job's time limit per attempt when its request sets none. */
  readonly defaultTimeoutMs: number;
  /** How long a stopped attempt may take to end before its HTTP call is aborted. */
  readonly interruptGraceMs: number;
  /** First retry delay; doubles per attempt up to `retryMaxMs`. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

/** What the runner works with. */
export interface JobRunnerDeps {
  readonly store: JobStore;
  readonly pool: BackendPool;
  readonly pipeline: ImagePipeline;
  readonly images: ImageStore;
  readonly events: EngineEvents;
  readonly logger?: Logger;
  readonly now?: () => number;
}

/** How an attempt ended, for the engine's bookkeeping. */
export type AttemptOutcome =
  | { readonly kind: 'completed'; readonly job: JobRecord }
  | { readonly kind: 'failed'; readonly job: JobRecord }
  | {
      readonly kind: 'requeued';
      readonly job: JobRecord;
      readonly retryInMs: number;
      /** The backend the next attempt should avoid (it ran out of memory there). */
      readonly avoidBackend: string | null;
    }
  | { readonly kind: 'cancelled' }
  /** The attempt had been given up (or the store failed): nothing to do. */
  | { readonly kind: 'dropped' };

/** Work units of a request (one unit = one sampling step of one image), to estimate durations. */
export function workUnits(request: ResolvedGenerationRequest): number {
  const images = request.batch_size * request.n_iter;
  if (request.kind === 'upscale') return 4;
  const hires = request.hires?.enabled === true ? request.hires.steps || request.steps : 0;
  // One more unit per image stands for decoding and encoding it.
  return images * (request.steps + hires + 1);
}

/** Runs attempts; one instance serves the whole engine. */
export class JobRunner {
  readonly #deps: JobRunnerDeps;
  readonly #options: JobRunnerOptions;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(deps: JobRunnerDeps, options: JobRunnerOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#logger = deps.logger ?? silentLogger;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Runs the attempt (its job already marked running). `release` is called exactly once, as soon
   * as the backend is free again.
   */
  async run(
    attempt: RunningAttempt,
    release: (report: BackendRunReport) => void,
  ): Promise<AttemptOutcome> {
    let released = false;
    let reachedForge = false;
    const releaseOnce = (report: BackendRunReport): void => {
      if (released) return;
      released = true;
      release(report);
    };
    // Cancelled between being picked and being marked running: Forge never sees it.
    if (attempt.stopReason !== null) {
      releaseOnce({});
      return await this.#stopped(attempt);
    }
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    // An attempt sent ahead waits behind the active one: its time limit starts when it does.
    attempt.whenActive(() => {
      if (!ended) timer = this.#armTimeout(attempt);
    });
    try {
      const call = await this.#prepare(attempt);
      await attempt.after;
      if (attempt.stopReason !== null) {
        releaseOnce({});
        return await this.#stopped(attempt);
      }
      const sentAt = this.#now();
      reachedForge = true;
      const body = await this.#callForge(attempt, call);
      // The time limit is the generation's; processing the images is the engine's own work.
      clearTimeout(timer);
      attempt.dispose();
      releaseOnce({
        checkpoint: attempt.entry.checkpoint,
        units: workUnits(attempt.job.resolved),
        durationMs: this.#now() - Math.max(sentAt, attempt.startedAt),
      });
      if (attempt.stopReason !== null) return await this.#stopped(attempt);
      return await this.#finish(attempt, call, body);
    } catch (error) {
      attempt.dispose();
      releaseOnce(reachedForge ? { checkpoint: attempt.entry.checkpoint } : {});
      if (attempt.stopReason !== null) return await this.#stopped(attempt);
      return await this.#failed(attempt, error);
    } finally {
      ended = true;
      clearTimeout(timer);
    }
  }

  #armTimeout(attempt: RunningAttempt): NodeJS.Timeout {
    const limitMs = attempt.job.resolved.timeout_ms ?? this.#options.defaultTimeoutMs;
    const timer = setTimeout(
      () => attempt.stop('timeout', this.#options.interruptGraceMs),
      limitMs - (this.#now() - attempt.startedAt),
    );
    timer.unref();
    return timer;
  }

  /** The Forge call for this backend: its own names for sampler, checkpoint, ... and images. */
  async #prepare(attempt: RunningAttempt): Promise<ForgeCall> {
    let request = attempt.job.resolved;
    const caps = this.#deps.pool.capabilitiesOf(attempt.backend);
    if (caps !== undefined) {
      const [fit] = checkAgainstCapabilities(request, [caps]).fits;
      if (fit !== undefined) request = applyBackendFit(request, fit);
    }
    const images = await loadReferencedImages(request, this.#deps.store, this.#deps.images);
    return buildForgeCall(request, images);
  }

  async #callForge(attempt: RunningAttempt, call: ForgeCall): Promise<Uint8Array> {
    const client = this.#deps.pool.client(attempt.backend);
    const poller =
      call.endpoint === 'extra-single-image' ? undefined : this.#poller(attempt, client);
    // Forge's progress is the active attempt's: an attempt sent ahead polls once it is active.
    if (poller !== undefined) attempt.whenActive(() => poller.start());
    const limitMs = attempt.job.resolved.timeout_ms ?? this.#options.defaultTimeoutMs;
    // The job's own timer must fire first, so that a timeout interrupts Forge instead of
    // abandoning a generation that goes on running there.
    // An attempt sent ahead may first wait out the active one's limit.
    const waitMs = attempt.active
      ? 0
      : this.#options.defaultTimeoutMs + this.#options.interruptGraceMs;
    const options = {
      signal: attempt.signal,
      timeoutMs: waitMs + limitMs + this.#options.interruptGraceMs + 1_000,
    };
    attempt.sent();
    try {
      if (call.endpoint === 'txt2img') return await client.txt2imgRaw(call.body, options);
      if (call.endpoint === 'img2img')
        return await client.img2imgRaw(img2imgInput(call.body), options);
      return await client.extraSingleImageRaw(call.body, options);
    } finally {
      await poller?.stop();
    }
  }

  #poller(attempt: RunningAttempt, client: ReturnType<BackendPool['client']>): ProgressPoller {
    return new ProgressPoller({
      client,
      intervalMs: this.#options.progressIntervalMs,
      previewIntervalMs: this.#options.previewIntervalMs,
      timeoutMs: this.#options.probeTimeoutMs,
      now: this.#now,
      onProgress: (progress, preview) => this.#progressed(attempt, progress, preview),
      onError: (error) =>
        this.#logger.debug({ jobId: attempt.job.id, err: error }, 'A progress poll failed'),
    });
  }

  async #progressed(
    attempt: RunningAttempt,
    progress: JobProgress,
    preview: Buffer | null,
  ): Promise<void> {
    if (attempt.stopReason !== null) return;
    if (preview !== null) attempt.preview = preview;
    attempt.job = { ...attempt.job, progress, updatedAt: progress.updatedAt };
    try {
      await this.#deps.store.updateProgress(attempt.job.id, attempt.attempt, progress);
    } catch (error) {
      this.#logger.warn({ jobId: attempt.job.id, err: error }, 'Could not store progress');
    }
    this.#deps.events.emit('jobProgress', { job: attempt.job, progress, preview });
  }

  async #finish(
    attempt: RunningAttempt,
    call: ForgeCall,
    body: Uint8Array,
  ): Promise<AttemptOutcome> {
    const { pipeline } = this.#deps;
    const jobId = attempt.job.id;
    let processed: readonly ProcessedImage[];
    let info: JobResult['info'] = null;
    if (call.endpoint === 'extra-single-image') {
      processed = [(await pipeline.processUpscale(body, { jobId })).image];
    } else {
      const generation = await pipeline.processGeneration(body, { jobId });
      processed = generation.images.filter((image) => !image.grid);
      info = generation.info as unknown as JobResult['info'];
    }
    const written: string[] = [];
    try {
      const images = await this.#storeImages(attempt, processed, written);
      if (attempt.stopReason !== null) {
        await this.#deleteImages(written);
        return await this.#stopped(attempt);
      }
      const result: JobResult = { images, seed: images[0]?.seed ?? null, info };
      const job = await this.#deps.store.complete(jobId, attempt.attempt, result);
      this.#deps.events.emit('jobCompleted', { job });
      return { kind: 'completed', job };
    } catch (error) {
      await this.#deleteImages(written);
      throw error;
    }
  }

  /**
   * Writes every image and thumbnail at once (each write waits for the disk, so one after the
   * other would add up); `written` collects the keys that were stored, for clean-up on failure.
   */
  async #storeImages(
    attempt: RunningAttempt,
    processed: readonly ProcessedImage[],
    written: string[],
  ): Promise<JobImage[]> {
    const { images: store } = this.#deps;
    const { id: jobId, createdAt, resolved } = attempt.job;
    const put = async (key: string, bytes: Buffer): Promise<void> => {
      await store.put(key, bytes);
      written.push(key);
    };
    const stored = processed.map((image, index): JobImage => ({
      index,
      key: store.keyFor({ jobId, index, createdAt, variant: 'image' }),
      thumbnailKey: store.keyFor({ jobId, index, createdAt, variant: 'thumbnail' }),
      seed: image.seed ?? resolved.seed,
      infotext: image.infotext ?? '',
      width: image.width,
      height: image.height,
      bytes: image.png.length,
      sha256: image.sha256,
      removedAt: null,
    }));
    const writes = processed.flatMap((image, index) => [
      put(stored[index]?.key ?? '', image.png),
      put(stored[index]?.thumbnailKey ?? '', image.thumbnail),
    ]);
    const failed = (await Promise.allSettled(writes)).find(
      (outcome) => outcome.status === 'rejected',
    );
    if (failed !== undefined) throw failed.reason;
    return stored;
  }

  async #deleteImages(keys: readonly string[]): Promise<void> {
    const deletions = keys.map((key) =>
      this.#deps.images.delete(key).catch((error: unknown) => {
        this.#logger.warn({ key, err: error }, 'Could not delete an image of a dropped result');
      }),
    );
    await Promise.all(deletions);
  }

  /** Records why a stopped attempt ended; whoever records first wins, the other is refused. */
  async #stopped(attempt: RunningAttempt): Promise<AttemptOutcome> {
    const { store, events } = this.#deps;
    const { id } = attempt.job;
    try {
      switch (attempt.stopReason) {
        case 'timeout': {
          const limitMs = attempt.job.resolved.timeout_ms ?? this.#options.defaultTimeoutMs;
          const job = await store.fail(id, attempt.attempt, {
            code: 'FT_ERR_JOB_TIMEOUT',
            message: `Job ${id} ran longer than its limit of ${limitMs} ms and was interrupted on backend "${attempt.backend}"`,
          });
          events.emit('jobFailed', { job, error: job.error ?? timeoutError(limitMs) });
          return { kind: 'failed', job };
        }
        case 'shutdown': {
          const error = {
            code: 'FT_ERR_QUEUE_CLOSED',
            message: `The engine shut down during attempt ${attempt.attempt} on backend "${attempt.backend}"`,
          };
          const job = await store.requeue(id, attempt.attempt, error);
          events.emit('jobRequeued', { job, error, retryInMs: 0 });
          return { kind: 'requeued', job, retryInMs: 0, avoidBackend: null };
        }
        case 'backend-down': {
          const error = attempt.backendError ?? {
            code: 'FT_ERR_FORGE_UNREACHABLE',
            message: `Backend "${attempt.backend}" went down`,
          };
          const job = await store.requeue(id, attempt.attempt, error);
          events.emit('jobRequeued', { job, error, retryInMs: 0 });
          return { kind: 'requeued', job, retryInMs: 0, avoidBackend: null };
        }
        default: {
          const job = await store.cancel(id, cancelledError(attempt.backend));
          events.emit('jobCancelled', { job });
          return { kind: 'cancelled' };
        }
      }
    } catch (error) {
      // The other side (cancel() in the engine, usually) recorded the end first.
      this.#logger.debug({ jobId: id, err: error }, 'A stopped attempt was already recorded');
      return attempt.stopReason === 'cancel' ? { kind: 'cancelled' } : { kind: 'dropped' };
    }
  }

  async #failed(attempt: RunningAttempt, failure: unknown): Promise<AttemptOutcome> {
    const { kind, error } = classifyFailure(failure);
    this.#logger.info(
      { jobId: attempt.job.id, backend: attempt.backend, kind, error },
      'A job attempt failed',
    );
    try {
      switch (kind) {
        case 'conflict':
          return { kind: 'dropped' };
        case 'backend':
          this.#deps.pool.markDown(attempt.backend, error);
          return await this.#retryOrFail(attempt, error, null);
        case 'out-of-memory':
          // One more try on another backend; a second OOM means the request is too big.
          if (attempt.entry.avoidBackend !== null) return await this.#fail(attempt, error);
          return await this.#retryOrFail(attempt, error, attempt.backend);
        case 'transient':
          return await this.#retryOrFail(attempt, error, null);
        case 'rejected':
          return await this.#fail(attempt, error);
      }
    } catch (storeError) {
      this.#logger.error(
        { jobId: attempt.job.id, err: storeError },
        'Could not record the end of an attempt; the job stays running until the next start',
      );
      return { kind: 'dropped' };
    }
  }

  async #retryOrFail(
    attempt: RunningAttempt,
    error: JobError,
    avoidBackend: string | null,
  ): Promise<AttemptOutcome> {
    const { job } = attempt;
    if (job.attempts >= job.maxAttempts) {
      return this.#fail(attempt, {
        code: 'FT_ERR_JOB_ATTEMPTS_EXHAUSTED',
        message: `Job ${job.id} gave up after ${job.attempts} attempts; the last failed with ${error.code}: ${error.message}`,
      });
    }
    const retryInMs = retryDelayMs(
      job.attempts,
      this.#options.retryBaseMs,
      this.#options.retryMaxMs,
    );
    const requeued = await this.#deps.store.requeue(job.id, attempt.attempt, error);
    this.#deps.events.emit('jobRequeued', { job: requeued, error, retryInMs });
    return { kind: 'requeued', job: requeued, retryInMs, avoidBackend };
  }

  async #fail(attempt: RunningAttempt, error: JobError): Promise<AttemptOutcome> {
    const job = await this.#deps.store.fail(attempt.job.id, attempt.attempt, error);
    this.#deps.events.emit('jobFailed', { job, error });
    return { kind: 'failed', job };
  }
}

/** The client's img2img input; the payload's optional image fields are left out when unset. */
function img2imgInput(body: Img2ImgRequest): Img2ImgInput {
  const { init_images: initImages, mask, ...rest } = body;
  return {
    ...rest,
    ...(initImages == null ? {} : { init_images: initImages }),
    ...(mask == null ? {} : { mask }),
  };
}

function timeoutError(limitMs: number): JobError {
  return { code: 'FT_ERR_JOB_TIMEOUT', message: `The job ran longer than ${limitMs} ms` };
}
