/**
 * Start-up recovery: the jobs a previous run left running either go back to the queue or fail,
 * as the store decides, and each such change is announced. Internal to the engine.
 */
import type { EngineEvents } from './engine-events.js';
import type { JobStore } from './job-store.js';

/** How many interrupted jobs went back to the queue and how many failed. */
export interface RecoveredJobs {
  readonly requeued: number;
  readonly failed: number;
}

/**
 * Lets the store settle the jobs a previous run left running, then announces each one
 * (`jobFailed` or `jobRequeued`), failures first. The still-queued jobs are left to the caller.
 * @throws ForgeToolError (`FT_ERR_STORE_FAILURE`) when the store cannot be read
 */
export async function recoverJobs(store: JobStore, events: EngineEvents): Promise<RecoveredJobs> {
  const { requeued, failed } = await store.recoverInterrupted();
  for (const job of failed) {
    if (job.error !== null) events.emit('jobFailed', { job, error: job.error });
  }
  for (const job of requeued) {
    if (job.error !== null) events.emit('jobRequeued', { job, error: job.error, retryInMs: 0 });
  }
  return { requeued: requeued.length, failed: failed.length };
}
