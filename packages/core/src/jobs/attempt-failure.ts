/**
 * What a failed attempt means for its job and its backend. The rule: retry what the backend
 * caused, never what the request caused, because Forge would reject the same request again.
 *
 * | Failure                                                      | Job                   | Backend     |
 * | ------------------------------------------------------------ | --------------------- | ----------- |
 * | unreachable, connection lost, HTTP timeout, 401, 502/503/504 | retry with backoff    | taken down  |
 * | CUDA out of memory                                           | once more, elsewhere  | stays up    |
 * | store failure                                                | retry with backoff    | stays up    |
 * | Forge rejected (422, 404, other 5xx), bad response, bad PNG  | fails                 | stays up    |
 * | store conflict (the attempt was already given up)            | result dropped        | stays up    |
 */
import { ForgeError } from '../forge/forge-error.js';
import { errorOf } from './job-errors.js';
import type { JobError } from './job.js';

/** How a failed attempt is handled; see the table above. */
export type FailureKind = 'backend' | 'out-of-memory' | 'transient' | 'rejected' | 'conflict';

/** A classified failure: its kind and the code and message to record. */
export interface ClassifiedFailure {
  readonly kind: FailureKind;
  readonly error: JobError;
}

const BACKEND_CODES: ReadonlySet<string> = new Set([
  'FT_ERR_FORGE_UNREACHABLE',
  'FT_ERR_FORGE_CONNECTION_LOST',
  'FT_ERR_FORGE_TIMEOUT',
  'FT_ERR_FORGE_UNAUTHORIZED',
]);

/** Statuses a proxy in front of Forge answers while Forge itself is away. */
const GATEWAY_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Classifies the error an attempt failed with. */
export function classifyFailure(failure: unknown): ClassifiedFailure {
  // An error without a code is a fault of the engine's own processing, not of the backend.
  const error = errorOf(failure, 'FT_ERR_IMAGE_PROCESSING');
  return { kind: kindOf(failure, error.code), error };
}

function kindOf(failure: unknown, code: string): FailureKind {
  if (code === 'FT_ERR_STORE_CONFLICT') return 'conflict';
  if (BACKEND_CODES.has(code)) return 'backend';
  if (code === 'FT_ERR_FORGE_OUT_OF_MEMORY') return 'out-of-memory';
  if (code === 'FT_ERR_STORE_FAILURE') return 'transient';
  const status = failure instanceof ForgeError ? failure.status : undefined;
  if (code === 'FT_ERR_FORGE_SERVER' && status !== undefined && GATEWAY_STATUSES.has(status)) {
    return 'backend';
  }
  return 'rejected';
}

/** Backoff before retry number `attempt` (1-based): `baseMs`, doubling, at most `maxMs`. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
