/**
 * The `GenerationService`: the one interface every front end (REST server, Discord and Slack
 * bots, VS Code extension, web dashboard) is written against. The in-process implementation is
 * `Engine`; a remote client speaking the server's REST + WebSocket API implements it too, so a
 * bot runs the same code standalone or against a shared server.
 */
import type { CapabilitySnapshot } from '../forge/forge-capabilities.js';
import type { BackendView } from './backend-pool.js';
import type { EngineEvent, EngineEventListener } from './engine-events.js';
import type { JobListQuery, JobPage } from './job-store.js';
import type { JobRecord, JobStatus } from './job.js';

/** What {@link GenerationService.submit} returns. */
export interface SubmitOutcome {
  /** The stored job (an earlier one when the idempotency key was already used). */
  readonly job: JobRecord;
  /** False when an earlier job with the same owner and idempotency key was returned. */
  readonly created: boolean;
  /** Jobs expected to start before it (0 = next); null once it runs or finished. */
  readonly position: number | null;
  /** Estimated milliseconds until it completes; null when unknown (no backend up). */
  readonly etaMs: number | null;
}

/** Where a job stands in the queue. */
export interface QueueEstimate {
  readonly jobId: string;
  readonly status: JobStatus;
  /** Jobs expected to start before it (0 = next); null when not queued. */
  readonly position: number | null;
  /**
   * Estimated milliseconds until it completes, from each backend's measured speed; null when
   * finished or when no backend is up.
   */
  readonly etaMs: number | null;
}

/** One backend in the capability view. */
export interface BackendCapabilities {
  readonly name: string;
  readonly status: BackendView['status'];
  readonly tags: readonly string[];
  /** The last probe's result; null when the backend never answered. */
  readonly capabilities: CapabilitySnapshot | null;
}

/** What the backends offer together: the names a request may use, sorted, deduplicated. */
export interface MergedCapabilities {
  readonly backends: readonly BackendCapabilities[];
  readonly checkpoints: readonly string[];
  readonly samplers: readonly string[];
  readonly schedulers: readonly string[];
  /** Upscalers for upscale jobs and hires fix. */
  readonly upscalers: readonly string[];
  /** Latent upscale modes, valid as the hires-fix upscaler only. */
  readonly latentUpscaleModes: readonly string[];
  readonly styles: readonly string[];
  readonly loras: readonly string[];
  /** VAE and text-encoder files (`modules`). */
  readonly modules: readonly string[];
}

/**
 * Image generation as a service: submit requests, follow their jobs, fetch their images.
 *
 * @example
 * ```ts
 * const { job } = await service.submit({ prompt: 'a lighthouse at dusk', owner: { id: 'u1' } });
 * const stop = service.subscribe((event) => {
 *   if (event.type === 'jobCompleted' && event.job.id === job.id) void save(event.job);
 * });
 * const png = await service.getImage(job.id, 0); // once completed
 * ```
 */
export interface GenerationService {
  /**
   * Validates a request, checks it against the backends, expands its wildcards, resolves its
   * seed, stores it and queues it.
   * @throws RequestError (`FT_ERR_REQUEST_INVALID`) naming every bad field and what it allows
   * @throws RequestError (`FT_ERR_REQUEST_UNSUPPORTED`) for a sampler, checkpoint, ... that no
   *   backend has, listing the valid names
   * @throws ForgeToolError (`FT_ERR_QUEUE_FULL`, `FT_ERR_QUEUE_NO_BACKEND`,
   *   `FT_ERR_QUEUE_CLOSED`, `FT_ERR_STORE_FAILURE`, `FT_ERR_WILDCARD_*`)
   */
  submit(request: unknown): Promise<SubmitOutcome>;
  /** A job by id, or undefined. */
  get(id: string): Promise<JobRecord | undefined>;
  /** Jobs, newest first, filtered and paged. */
  list(query: JobListQuery): Promise<JobPage>;
  /**
   * Cancels a queued job at once, or interrupts a running one on its backend and marks it
   * cancelled.
   * @throws ForgeToolError (`FT_ERR_JOB_NOT_FOUND`, `FT_ERR_JOB_NOT_CANCELLABLE`)
   */
  cancel(id: string): Promise<JobRecord>;
  /** Receives every event from now on; returns the function that stops it. */
  subscribe(listener: EngineEventListener): () => void;
  /**
   * Recent events after `sequence`, for a listener that reconnects; `complete` is false when
   * some were already dropped (then reload the jobs instead).
   */
  eventsSince(sequence: number): Promise<{ events: EngineEvent[]; complete: boolean }>;
  /**
   * A stored image of a completed job (PNG bytes).
   * @throws ForgeToolError (`FT_ERR_JOB_NOT_FOUND`, `FT_ERR_IMAGE_NOT_FOUND` also when
   *   retention removed it)
   */
  getImage(jobId: string, index: number): Promise<Buffer>;
  /** The small preview of a stored image (PNG bytes). @throws as {@link getImage} */
  getThumbnail(jobId: string, index: number): Promise<Buffer>;
  /** The latest live preview of a running job, or null. */
  getPreview(jobId: string): Promise<Buffer | null>;
  /** Queue position and estimated time to completion. @throws `FT_ERR_JOB_NOT_FOUND` */
  estimate(jobId: string): Promise<QueueEstimate>;
  /** What the backends offer together, and each backend's own view. */
  capabilities(): Promise<MergedCapabilities>;
  /** Each backend's state. */
  backends(): Promise<BackendView[]>;
  /** Stops taking jobs, lets running ones finish (or stops them after a grace period), closes. */
  close(): Promise<void>;
}
