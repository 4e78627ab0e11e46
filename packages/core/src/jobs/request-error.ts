/**
 * The error a generation request fails with before it is queued: a rule it breaks
 * (`FT_ERR_REQUEST_INVALID`), or a name no backend knows (`FT_ERR_REQUEST_UNSUPPORTED`).
 */
import { ForgeToolError, type ForgeToolErrorOptions } from '../errors.js';

/** One problem with one field of a request. */
export interface RequestIssue {
  /** The field's path: `width`, `hires.scale`, `styles[2]`, or `request` for the whole body. */
  readonly field: string;
  /** What is wrong and what is allowed, without the field name: `must be ..., got 1000`. */
  readonly message: string;
}

/** The codes a {@link RequestError} carries. */
export type RequestErrorCode = 'FT_ERR_REQUEST_INVALID' | 'FT_ERR_REQUEST_UNSUPPORTED';

/** Options of a {@link RequestError}. */
export interface RequestErrorOptions extends ForgeToolErrorOptions {
  /** @defaultValue `'FT_ERR_REQUEST_INVALID'` */
  code?: RequestErrorCode;
}

/**
 * A request that cannot be queued. The message names every problem
 * (`width: must be a multiple of 8 from 64 to 2048, got 1000`); `issues` carries them one by one
 * for the REST layer.
 */
export class RequestError extends ForgeToolError {
  /** Every problem found, in field order; never empty. */
  readonly issues: readonly RequestIssue[];

  constructor(issues: readonly RequestIssue[], options: RequestErrorOptions = {}) {
    const code = options.code ?? 'FT_ERR_REQUEST_INVALID';
    super(code, summarise(code, issues), options);
    this.issues = issues.length === 0 ? [{ field: 'request', message: 'is invalid' }] : issues;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

function summarise(code: RequestErrorCode, issues: readonly RequestIssue[]): string {
  const what = code === 'FT_ERR_REQUEST_INVALID' ? 'Invalid' : 'Unsupported';
  const lines = issues.map((issue) => `${issue.field}: ${issue.message}`);
  return `${what} generation request: ${lines.join('; ') || 'no details'}`;
}
