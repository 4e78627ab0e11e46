/**
 * The checks and resolution a request goes through before it is stored: backend tags, references
 * to earlier images, the concrete seed and the wildcard expansion.
 */
import { ForgeToolError } from '../errors.js';
import type { BackendView } from './backend-pool.js';
import type { PromptExpander } from './engine-options.js';
import type { GenerationRequest, ResolvedGenerationRequest } from './generation-request.js';
import { findReferencedImage, imageReferences } from './image-references.js';
import type { JobStore } from './job-store.js';
import { RequestError, type RequestIssue } from './request-error.js';

/** Seeds are 32-bit unsigned integers. */
const SEED_RANGE = 4_294_967_296;

/**
 * Checks that some configured backend has every tag the request asks for.
 * @throws ForgeToolError (`FT_ERR_QUEUE_NO_BACKEND`) naming the tags
 */
export function checkBackendTags(
  request: GenerationRequest,
  backends: readonly BackendView[],
): void {
  const wanted = request.backend_tags ?? [];
  if (wanted.length === 0) return;
  if (backends.some((backend) => wanted.every((tag) => backend.tags.has(tag)))) return;
  const known = [...new Set(backends.flatMap((backend) => [...backend.tags]))].sort();
  throw new ForgeToolError(
    'FT_ERR_QUEUE_NO_BACKEND',
    `No configured backend has every tag of backend_tags (${wanted.join(', ')}); ` +
      `tags in use: ${known.length === 0 ? '(none)' : known.join(', ')}`,
  );
}

/**
 * Checks that every earlier image the request refers to exists and is still stored.
 * @throws RequestError (`FT_ERR_REQUEST_INVALID`) with one issue per bad reference
 */
export async function checkImageReferences(
  request: GenerationRequest,
  store: JobStore,
): Promise<void> {
  const issues: RequestIssue[] = [];
  for (const { field, reference } of imageReferences(request)) {
    try {
      await findReferencedImage(store, field, reference);
    } catch (error) {
      if (!(error instanceof ForgeToolError) || error.code !== 'FT_ERR_IMAGE_NOT_FOUND')
        throw error;
      issues.push({ field, message: error.message });
    }
  }
  if (issues.length > 0) throw new RequestError(issues);
}

/**
 * The request as it will run: seed -1 becomes a concrete seed first, then the prompts' wildcards
 * are expanded with that seed (so the same seed gives the same prompt), and the expansion's
 * trace is kept. Forge takes one prompt for a whole batch, so a job is expanded once, as image 0
 * of its batch: the images of one batch share their prompt.
 * @throws the expander's errors (`FT_ERR_WILDCARD_*`)
 */
export async function resolveRequest(
  request: GenerationRequest,
  options: { readonly random: () => number; readonly expandPrompt: PromptExpander },
): Promise<ResolvedGenerationRequest> {
  const seed =
    request.seed === -1 ? Math.floor(options.random() * SEED_RANGE) % SEED_RANGE : request.seed;
  if (!request.wildcards.enabled || request.kind === 'upscale') {
    return { ...request, seed, wildcard_trace: null };
  }
  const maxDepth = request.wildcards.max_depth;
  const prompt = await options.expandPrompt(request.prompt, { seed, index: 0, maxDepth });
  const negative = await options.expandPrompt(request.negative_prompt, {
    seed,
    index: 0,
    maxDepth,
  });
  const traced = prompt.trace !== null || negative.trace !== null;
  return {
    ...request,
    seed,
    prompt: prompt.prompt,
    negative_prompt: negative.prompt,
    wildcard_trace: traced ? { prompt: prompt.trace, negative_prompt: negative.trace } : null,
  };
}
