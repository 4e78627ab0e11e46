/**
 * Applies the image store's retention policy and marks what it removed on the jobs, so a job
 * says its images are gone instead of pointing at missing files.
 */
import type { ImageStore } from '../images/image-store.js';
import type { JobStore } from './job-store.js';

/**
 * Removes what the retention policy says is due and marks the removed images on their jobs.
 * @returns how many stored objects (images and thumbnails) were removed
 */
export async function applyRetention(
  images: ImageStore,
  store: JobStore,
  now: number,
): Promise<number> {
  const removed = await images.enforceRetention(now);
  const indexesByJob = new Map<string, number[]>();
  for (const object of removed) {
    if (object.parsed === null || object.parsed.variant !== 'image') continue;
    const indexes = indexesByJob.get(object.parsed.jobId) ?? [];
    indexes.push(object.parsed.index);
    indexesByJob.set(object.parsed.jobId, indexes);
  }
  for (const [jobId, indexes] of indexesByJob) {
    try {
      await store.markImagesRemoved(jobId, indexes, now);
    } catch (error) {
      // Images of a job the store does not know or that never completed (put there by hand, or
      // left by an attempt that was given up): nothing to mark.
      const code = error instanceof Error && 'code' in error ? error.code : undefined;
      if (code !== 'FT_ERR_JOB_NOT_FOUND' && code !== 'FT_ERR_STORE_CONFLICT') throw error;
    }
  }
  return removed.length;
}
