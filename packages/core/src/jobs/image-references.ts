/**
 * Requests may name an earlier job's image instead of sending bytes (`init_image`, `mask`,
 * `upscale.source` as `{ job_id, index }`). These helpers check such references when a job is
 * submitted and fetch their bytes from the image store when it runs.
 */
import { ForgeToolError } from '../errors.js';
import type { ImageStore } from '../images/image-store.js';
import type { ForgeCallImages } from './forge-payload.js';
import type { GenerationRequest, JobImageReference } from './generation-request.js';
import type { JobStore } from './job-store.js';
import type { JobImage } from './job.js';

/** Every image reference of a request, with the field it came from. */
export function imageReferences(
  request: GenerationRequest,
): { field: 'init_image' | 'mask' | 'upscale.source'; reference: JobImageReference }[] {
  const found: { field: 'init_image' | 'mask' | 'upscale.source'; reference: JobImageReference }[] =
    [];
  if (isReference(request.init_image)) {
    found.push({ field: 'init_image', reference: request.init_image });
  }
  if (isReference(request.mask)) found.push({ field: 'mask', reference: request.mask });
  const source = request.upscale?.source;
  if (isReference(source)) found.push({ field: 'upscale.source', reference: source });
  return found;
}

/**
 * The stored image a reference names.
 * @throws ForgeToolError (`FT_ERR_IMAGE_NOT_FOUND`) when the job does not exist, has not
 *   completed, has no image at that index, or retention removed it
 */
export async function findReferencedImage(
  store: JobStore,
  field: string,
  reference: JobImageReference,
): Promise<JobImage> {
  const where = `${field} refers to image ${reference.index} of job ${reference.job_id}, but`;
  return findJobImage(store, reference.job_id, reference.index, where);
}

/**
 * Image `index` of a completed job, still stored. `where` starts each error message.
 * @throws ForgeToolError (`FT_ERR_IMAGE_NOT_FOUND`) naming what is missing
 */
export async function findJobImage(
  store: JobStore,
  jobId: string,
  index: number,
  where = `Image ${index} of job ${jobId} is not available:`,
): Promise<JobImage> {
  const job = await store.get(jobId);
  if (job === undefined) throw notFound(`${where} no job has that id`);
  if (job.status !== 'completed' || job.result === null) {
    throw notFound(`${where} that job is ${job.status}, not completed`);
  }
  const image = job.result.images.find((candidate) => candidate.index === index);
  if (image === undefined) {
    const count = job.result.images.length;
    throw notFound(`${where} that job has images 0 to ${count - 1}`);
  }
  if (image.removedAt !== null) {
    const when = new Date(image.removedAt).toISOString();
    throw notFound(`${where} the retention policy removed it at ${when}`);
  }
  return image;
}

/**
 * Fetches the bytes of every referenced image, as {@link buildForgeCall} takes them.
 * @throws ForgeToolError (`FT_ERR_IMAGE_NOT_FOUND`) as {@link findReferencedImage}, or when the
 *   file is gone from the image store
 */
export async function loadReferencedImages(
  request: GenerationRequest,
  store: JobStore,
  images: ImageStore,
): Promise<ForgeCallImages> {
  const loaded: ForgeCallImages = {};
  for (const { field, reference } of imageReferences(request)) {
    const image = await findReferencedImage(store, field, reference);
    const bytes = await images.get(image.key);
    if (field === 'init_image') loaded.initImages = [bytes];
    else if (field === 'mask') loaded.mask = bytes;
    else loaded.sourceImage = bytes;
  }
  return loaded;
}

function isReference(value: unknown): value is JobImageReference {
  return typeof value === 'object' && value !== null && 'job_id' in value;
}

function notFound(message: string): ForgeToolError {
  return new ForgeToolError('FT_ERR_IMAGE_NOT_FOUND', message);
}
