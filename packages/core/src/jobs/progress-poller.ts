/**
 * Polls a backend's `GET /sdapi/v1/progress` while one job runs there and turns the answers into
 * job progress. Forge's progress is global, but the engine runs one job per backend, so whatever
 * Forge reports belongs to that job.
 *
 * One poll at a time: the next starts `intervalMs` after the previous one ended, so a slow
 * backend is never asked twice at once. Forge encodes a live preview only when asked, so the
 * poller asks (`skip_current_image=false`) at most once per `previewIntervalMs`.
 */
import type { ForgeClient } from '../forge/forge-client.js';
import type { ProgressResponse } from '../forge/generation-schemas.js';
import type { JobProgress } from './job.js';

/** Options of {@link ProgressPoller}. */
export interface ProgressPollerOptions {
  readonly client: Pick<ForgeClient, 'progress'>;
  /** Pause between the end of one poll and the start of the next. */
  readonly intervalMs: number;
  /** Least time between two previews; 0 never asks for one. */
  readonly previewIntervalMs: number;
  /** Deadline of each progress call. */
  readonly timeoutMs: number;
  /** Receives each change of progress (and each new preview). */
  readonly onProgress: (progress: JobProgress, preview: Buffer | null) => Promise<void> | void;
  /** Receives failed polls; polling goes on. */
  readonly onError?: (error: unknown) => void;
  readonly now?: () => number;
}

/** Polls until stopped. */
export class ProgressPoller {
  readonly #options: ProgressPollerOptions;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #lastPreviewAt = Number.NEGATIVE_INFINITY;
  #hasPreview = false;
  #last: { percent: number; step: number | null } | undefined;
  #stopped = false;

  constructor(options: ProgressPollerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Starts polling after one interval. */
  start(): void {
    this.#schedule();
  }

  /** Stops polling and waits for a poll in flight to end (it is aborted). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#inFlight;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#inFlight = this.#poll().finally(() => {
        this.#inFlight = undefined;
        this.#schedule();
      });
    }, this.#options.intervalMs);
  }

  async #poll(): Promise<void> {
    const wantPreview =
      this.#options.previewIntervalMs > 0 &&
      this.#now() - this.#lastPreviewAt >= this.#options.previewIntervalMs;
    let answer: ProgressResponse;
    try {
      answer = await this.#options.client.progress({
        skipCurrentImage: !wantPreview,
        signal: this.#abort.signal,
        timeoutMs: this.#options.timeoutMs,
      });
    } catch (error) {
      if (!this.#stopped) this.#options.onError?.(error);
      return;
    }
    if (this.#stopped) return;
    await this.#report(answer);
  }

  async #report(answer: ProgressResponse): Promise<void> {
    const preview = answer.current_image;
    if (preview !== null) {
      this.#lastPreviewAt = this.#now();
      this.#hasPreview = true;
    }
    const progress = toJobProgress(answer, this.#hasPreview, this.#now());
    if (progress === null) return;
    const unchanged =
      this.#last !== undefined &&
      this.#last.percent === progress.percent &&
      this.#last.step === progress.step;
    if (unchanged && preview === null) return;
    this.#last = { percent: progress.percent, step: progress.step };
    await this.#options.onProgress(progress, preview);
  }
}

/**
 * Forge's progress as job progress, or null while Forge reports nothing running yet (the job may
 * still wait for a checkpoint to load).
 */
export function toJobProgress(
  answer: ProgressResponse,
  hasPreview: boolean,
  now: number,
): JobProgress | null {
  const { state } = answer;
  if (state.job_count === 0 && answer.progress === 0) return null;
  const percent = Math.round(Math.min(1, Math.max(0, answer.progress)) * 1_000) / 10;
  return {
    percent,
    step: state.sampling_step > 0 ? state.sampling_step : null,
    totalSteps: state.sampling_steps > 0 ? state.sampling_steps : null,
    etaMs: answer.eta_relative > 0 ? Math.round(answer.eta_relative * 1_000) : null,
    hasPreview,
    updatedAt: now,
  };
}
