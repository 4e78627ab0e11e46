/**
 * The job record: what the engine stores about one generation request over its life.
 *
 * ```
 *            submit                pick             images stored
 *   (new) ----------> queued ----------------> running ------------> completed
 *                      |  ^                      |  |
 *             cancel   |  |  backend failed,     |  +----------------> failed
 *                      v  |  attempts left       |   Forge rejected, timeout,
 *                  cancelled <-------------------+   attempts exhausted
 *                              cancel (interrupt)
 * ```
 */
import type { GenerationRequest, ResolvedGenerationRequest } from './generation-request.js';

/** The three kinds of job. */
export type JobKind = 'txt2img' | 'img2img' | 'upscale';

/** Where a job is in its life. */
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** The statuses a job never leaves. */
export const FINISHED_STATUSES: ReadonlySet<JobStatus> = new Set([
  'completed',
  'failed',
  'cancelled',
]);

/** The front end a request came through. */
export type OwnerSource = 'api' | 'discord' | 'slack' | 'vscode' | 'web';

/** Who asked for a job. */
export interface JobOwner {
  /** The user's id within its source (a Discord user id, an API key's name, ...). */
  readonly id: string;
  readonly source: OwnerSource;
}

/** How far a running job is. */
export interface JobProgress {
  /** 0 to 100. */
  readonly percent: number;
  /** The sampling step Forge is on (1-based), when it says. */
  readonly step: number | null;
  /** Steps of the current pass, when Forge says. */
  readonly totalSteps: number | null;
  /** Estimated milliseconds until the job completes, when known. */
  readonly etaMs: number | null;
  /** Whether a live preview exists; the service hands out its bytes. */
  readonly hasPreview: boolean;
  /** When this progress was observed (ms since the epoch). */
  readonly updatedAt: number;
}

/** One stored image of a finished job. */
export interface JobImage {
  /** Position within the job's images, from 0. */
  readonly index: number;
  /** Where the image store keeps it (a relative key such as `2026-12-03/job_01J...-0.png`). */
  readonly key: string;
  /** Where its small preview is kept, if one was made. */
  readonly thumbnailKey: string | null;
  /** The seed this image was generated with. */
  readonly seed: number;
  /** Forge's `parameters` text for this image. */
  readonly infotext: string;
  readonly width: number;
  readonly height: number;
  /** Size of the PNG in bytes. */
  readonly bytes: number;
  /** Lower-case hex sha256 of the stored PNG. */
  readonly sha256: string;
  /** When the retention policy removed it (ms since the epoch); null while it is stored. */
  readonly removedAt: number | null;
}

/** What a completed job produced. */
export interface JobResult {
  readonly images: readonly JobImage[];
  /** The seed of the first image, as Forge resolved it. */
  readonly seed: number | null;
  /** Forge's `info` object for the generation, as parsed (txt2img and img2img only). */
  readonly info: Readonly<Record<string, unknown>> | null;
}

/** Why a job failed or was cancelled. */
export interface JobError {
  /** One of the codes in docs/errors.md. */
  readonly code: string;
  readonly message: string;
}

/** Everything the store keeps about one job. */
export interface JobRecord {
  /** Sortable, prefixed id: `job_` followed by a ULID. */
  readonly id: string;
  readonly kind: JobKind;
  readonly status: JobStatus;
  /** Higher runs earlier; within a priority the scheduler shares fairly across owners. */
  readonly priority: number;
  readonly owner: JobOwner;
  /** The request as submitted, after defaults and validation. */
  readonly request: GenerationRequest;
  /** The request after wildcard expansion and seed resolution: exactly what runs. */
  readonly resolved: ResolvedGenerationRequest;
  /** The client's idempotency key, if it sent one. */
  readonly idempotencyKey: string | null;
  /** Attempts started so far (0 while never picked). */
  readonly attempts: number;
  /** The most attempts this job may have. */
  readonly maxAttempts: number;
  /** The backend running it, or the one that ran it last. */
  readonly backend: string | null;
  readonly progress: JobProgress | null;
  readonly result: JobResult | null;
  readonly error: JobError | null;
  /** Monotonic insertion number: queue order within equal priority and owner. */
  readonly sequence: number;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly updatedAt: number;
}
