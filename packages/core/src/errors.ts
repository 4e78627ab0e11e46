/**
 * The error registry of Forge API Tool.
 *
 * Every error the engine raises is a {@link ForgeToolError} with a stable string `code` shaped
 * `FT_ERR_<AREA>_<PROBLEM>`. Callers branch on `code`, never on message text. Each code is listed
 * in {@link ERROR_CODES} and documented in `docs/errors.md`; a test keeps the two in step.
 * A retired code is never reused for another meaning.
 */

/** Every error code the engine can raise, with the HTTP status the REST layer answers with. */
export const ERROR_CODES = {
  FT_ERR_CONFIG_INVALID: 500,
  FT_ERR_FORGE_UNREACHABLE: 503,
  FT_ERR_FORGE_TIMEOUT: 504,
  FT_ERR_FORGE_CONNECTION_LOST: 502,
  FT_ERR_FORGE_ABORTED: 499,
  FT_ERR_FORGE_UNAUTHORIZED: 502,
  FT_ERR_FORGE_VALIDATION: 422,
  FT_ERR_FORGE_NOT_FOUND: 502,
  FT_ERR_FORGE_OUT_OF_MEMORY: 503,
  FT_ERR_FORGE_SERVER: 502,
  FT_ERR_FORGE_BAD_RESPONSE: 502,
  FT_ERR_PNG_INVALID: 400,
  FT_ERR_INFOTEXT_INVALID: 400,
  FT_ERR_IMAGE_NOT_FOUND: 404,
  FT_ERR_IMAGE_PROCESSING: 500,
  FT_ERR_IMAGE_KEY_INVALID: 400,
  FT_ERR_REQUEST_INVALID: 400,
  FT_ERR_REQUEST_UNSUPPORTED: 422,
  FT_ERR_JOB_NOT_FOUND: 404,
  FT_ERR_JOB_NOT_CANCELLABLE: 409,
  FT_ERR_JOB_CANCELLED: 409,
  FT_ERR_JOB_TIMEOUT: 504,
  FT_ERR_JOB_ATTEMPTS_EXHAUSTED: 503,
  FT_ERR_QUEUE_FULL: 429,
  FT_ERR_QUEUE_NO_BACKEND: 503,
  FT_ERR_QUEUE_CLOSED: 503,
  FT_ERR_STORE_FAILURE: 500,
  FT_ERR_STORE_CONFLICT: 409,
  FT_ERR_WILDCARD_SYNTAX: 400,
  FT_ERR_WILDCARD_NOT_FOUND: 400,
  FT_ERR_WILDCARD_CYCLE: 400,
  FT_ERR_WILDCARD_DEPTH: 400,
  FT_ERR_WILDCARD_LIMIT: 400,
  FT_ERR_WILDCARD_NAME_INVALID: 400,
  FT_ERR_WILDCARD_CATEGORY_EXISTS: 409,
  FT_ERR_WILDCARD_CATEGORY_NOT_FOUND: 404,
  FT_ERR_WILDCARD_READ_ONLY: 409,
  FT_ERR_WILDCARD_ITEM_NOT_FOUND: 404,
  FT_ERR_WILDCARD_IO: 500,
} as const satisfies Record<`FT_ERR_${string}`, number>;

/** One of the registered error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options shared by every {@link ForgeToolError}. */
export interface ForgeToolErrorOptions {
  /** The lower-level error that caused this one (an undici or zod error, say). */
  cause?: unknown;
}

/**
 * Base class of every error the engine raises. `name` is the class name, `code` is stable,
 * `statusCode` is what the REST layer answers with.
 */
export class ForgeToolError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, message: string, options: ForgeToolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = ERROR_CODES[code];
  }

  /** A plain object safe to put in a log line or an API response. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** Thrown when configuration or options break a rule; the message names the option path. */
export class ConfigError extends ForgeToolError {
  constructor(message: string, options: ForgeToolErrorOptions = {}) {
    super('FT_ERR_CONFIG_INVALID', message, options);
  }
}

/** Type guard that also narrows on a code: `isForgeToolError(err, 'FT_ERR_FORGE_TIMEOUT')`. */
export function isForgeToolError(error: unknown, code?: ErrorCode): error is ForgeToolError {
  return error instanceof ForgeToolError && (code === undefined || error.code === code);
}
