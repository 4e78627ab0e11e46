/**
 * How failures are recorded on jobs and in events: a code from docs/errors.md and a message.
 */
import type { ErrorCode } from '../errors.js';
import type { JobError } from './job.js';

/**
 * The code and message of any error, for events and job records; an error without one of our
 * codes gets `fallbackCode`.
 */
export function errorOf(
  error: unknown,
  fallbackCode: ErrorCode = 'FT_ERR_FORGE_UNREACHABLE',
): JobError {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code, message } = error as { code: unknown; message?: unknown };
    if (typeof code === 'string' && code.startsWith('FT_ERR_')) {
      return { code, message: typeof message === 'string' ? message : code };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: fallbackCode, message };
}

/** The reason recorded on a cancelled job. */
export function cancelledError(backend: string | null): JobError {
  const where = backend === null ? 'while queued' : `and interrupted on backend "${backend}"`;
  return { code: 'FT_ERR_JOB_CANCELLED', message: `The job was cancelled ${where}` };
}
