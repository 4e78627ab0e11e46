/**
 * Errors raised by the Forge client, and the mapping from what went wrong on the wire (an undici
 * failure, a Forge error body) to one stable code.
 *
 * Forge answers errors in three shapes (forge-api.md §6): `{"detail": "..."}` for HTTPException
 * paths, `{"detail": [...]}` for pydantic validation (422), and `{error, detail, body, message}`
 * from its catch-all exception handler. Each shape is turned into a message that names the backend,
 * the endpoint and Forge's own reason.
 */
import { ForgeToolError, type ErrorCode } from '../errors.js';

/** The subset of error codes that a {@link ForgeError} can carry. */
export type ForgeErrorCode = Extract<ErrorCode, `FT_ERR_FORGE_${string}`>;

/** The most of Forge's response body an error keeps (a generation body can be megabytes). */
export const MAX_ERROR_BODY_CHARS = 2_000;

/** Which request failed: the backend, the HTTP method and the endpoint path. */
export interface ForgeRequestContext {
  /** The client's name for the backend (`gpu-1`, or `host:port`). */
  backend: string;
  /** HTTP method, upper case. */
  method: string;
  /** Endpoint path, e.g. `/sdapi/v1/txt2img`. */
  endpoint: string;
}

/** Details a {@link ForgeError} carries besides its code and message. */
export interface ForgeErrorDetails extends ForgeRequestContext {
  /** HTTP status of Forge's answer, when one arrived. */
  status?: number;
  /** Forge's own reason text (its `detail`, or `<ExceptionClass>: <message>`). */
  forgeReason?: string;
  /** The start of Forge's response body, at most {@link MAX_ERROR_BODY_CHARS} characters. */
  body?: string;
  /** The lower-level error (undici, JSON, zod). */
  cause?: unknown;
}

/**
 * A request to one Forge backend failed. `code` says how (unreachable, timeout, Forge rejected the
 * request, Forge crashed, ...); the fields say where.
 */
export class ForgeError extends ForgeToolError {
  /** The client's name for the backend. */
  readonly backend: string;
  /** HTTP method of the failed request. */
  readonly method: string;
  /** Endpoint path of the failed request. */
  readonly endpoint: string;
  /** HTTP status, when Forge answered at all. */
  readonly status: number | undefined;
  /** Forge's own reason text, when it gave one. */
  readonly forgeReason: string | undefined;
  /** The start of Forge's response body, bounded. */
  readonly body: string | undefined;

  constructor(code: ForgeErrorCode, message: string, details: ForgeErrorDetails) {
    super(code, message, { cause: details.cause });
    this.backend = details.backend;
    this.method = details.method;
    this.endpoint = details.endpoint;
    this.status = details.status;
    this.forgeReason = details.forgeReason;
    this.body = details.body === undefined ? undefined : truncate(details.body);
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      backend: this.backend,
      method: this.method,
      endpoint: this.endpoint,
      status: this.status,
      forgeReason: this.forgeReason,
    };
  }
}

/** What the transport knew when a request failed before a complete answer arrived. */
export interface TransportFailure {
  /** The request's own deadline fired. */
  timedOut: boolean;
  /** The caller's AbortSignal fired. */
  aborted: boolean;
  /** The deadline that applied, for the message. */
  timeoutMs: number;
  /** Where the client was sending the request, for the unreachable message. */
  origin: string;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Turns a failure below HTTP (no answer, or an answer cut short) into a {@link ForgeError}.
 * Our own deadline and the caller's signal win over the error's code: aborting a request makes
 * undici report a generic abort, which says nothing about who aborted.
 */
export function forgeTransportError(
  context: ForgeRequestContext,
  error: unknown,
  failure: TransportFailure,
): ForgeError {
  const where = `${context.method} ${context.endpoint}`;
  const details = { ...context, cause: error };
  const prefix = `Forge backend "${context.backend}"`;
  if (failure.aborted) {
    return new ForgeError(
      'FT_ERR_FORGE_ABORTED',
      `${where} to Forge backend "${context.backend}" was aborted by the caller`,
      details,
    );
  }
  const code = errorCodeOf(error);
  if (failure.timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new ForgeError(
      'FT_ERR_FORGE_TIMEOUT',
      `${prefix} did not answer ${where} within ${failure.timeoutMs} ms`,
      details,
    );
  }
  const reason = describeCause(error);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new ForgeError(
      'FT_ERR_FORGE_UNREACHABLE',
      `${prefix} is unreachable at ${failure.origin} (${where}): ${reason}. ` +
        'Is Forge running with --api, and is the URL right?',
      details,
    );
  }
  return new ForgeError(
    'FT_ERR_FORGE_CONNECTION_LOST',
    `${prefix} closed the connection before answering ${where} completely: ${reason}`,
    details,
  );
}

/** Turns a non-2xx answer into a {@link ForgeError}, reading Forge's reason from the body. */
export function forgeHttpError(
  context: ForgeRequestContext,
  status: number,
  bodyText: string,
): ForgeError {
  const parsed = parseErrorBody(bodyText);
  const reason = parsed.reason ?? describeBody(bodyText, status);
  const code = httpErrorCode(status, parsed);
  const message = httpErrorMessage(code, context, status, reason, parsed);
  return new ForgeError(code, message, { ...context, status, body: bodyText, forgeReason: reason });
}

function httpErrorCode(status: number, parsed: ParsedErrorBody): ForgeErrorCode {
  if (status === 401) return 'FT_ERR_FORGE_UNAUTHORIZED';
  if (status === 422) return 'FT_ERR_FORGE_VALIDATION';
  if (status === 404) return 'FT_ERR_FORGE_NOT_FOUND';
  return isOutOfMemory(parsed) ? 'FT_ERR_FORGE_OUT_OF_MEMORY' : 'FT_ERR_FORGE_SERVER';
}

function httpErrorMessage(
  code: ForgeErrorCode,
  context: ForgeRequestContext,
  status: number,
  reason: string,
  parsed: ParsedErrorBody,
): string {
  const where = `${context.method} ${context.endpoint}`;
  const prefix = `Forge backend "${context.backend}"`;
  switch (code) {
    case 'FT_ERR_FORGE_UNAUTHORIZED':
      return (
        `${prefix} refused ${where} (401): ${reason}. Check the username and password ` +
        'configured for this backend against Forge --api-auth.'
      );
    case 'FT_ERR_FORGE_VALIDATION':
      return `${prefix} rejected ${where}: ${reason}`;
    case 'FT_ERR_FORGE_NOT_FOUND':
      return `${prefix} answered 404 for ${where}: ${reason}${notFoundHint(context.endpoint)}`;
    case 'FT_ERR_FORGE_OUT_OF_MEMORY':
      return `${prefix} ran out of GPU memory during ${where}: ${reason}`;
    default:
      return parsed.exceptionClass === undefined
        ? `${prefix} answered ${status} for ${where}: ${reason}`
        : `${prefix} failed ${where} (${status}): ${reason}`;
  }
}

function notFoundHint(endpoint: string): string {
  return endpoint.startsWith('/internal/')
    ? ' (Forge started with --nowebui does not serve /internal/* routes)'
    : '';
}

/** A 2xx answer whose body is not JSON or not the documented shape. */
export function forgeBadResponseError(
  context: ForgeRequestContext,
  status: number,
  bodyText: string,
  problem: string,
  cause?: unknown,
): ForgeError {
  return new ForgeError(
    'FT_ERR_FORGE_BAD_RESPONSE',
    `Forge backend "${context.backend}" sent an unexpected answer to ` +
      `${context.method} ${context.endpoint}: ${problem}`,
    { ...context, status, body: bodyText, forgeReason: problem, cause },
  );
}

interface ParsedErrorBody {
  /** A readable reason, when the body had one of Forge's error shapes. */
  reason?: string;
  /** Forge's exception class, from the catch-all handler's body. */
  exceptionClass?: string;
  /** Forge's exception text, from the catch-all handler's body. */
  exceptionMessage?: string;
}

function parseErrorBody(bodyText: string): ParsedErrorBody {
  const json = tryParseJson(bodyText);
  if (!isRecord(json)) return {};
  if (typeof json['error'] === 'string') return parseExceptionBody(json, json['error']);
  const detail = json['detail'];
  if (typeof detail === 'string' && detail !== '') return { reason: detail };
  if (Array.isArray(detail) && detail.length > 0) return { reason: formatValidationDetail(detail) };
  return {};
}

function parseExceptionBody(
  json: Record<string, unknown>,
  exceptionClass: string,
): ParsedErrorBody {
  const message = [json['message'], json['errors'], json['detail']].find(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  const reason = message === undefined ? exceptionClass : `${exceptionClass}: ${message}`;
  return message === undefined
    ? { reason, exceptionClass }
    : { reason, exceptionClass, exceptionMessage: message };
}

function isOutOfMemory(parsed: ParsedErrorBody): boolean {
  if (parsed.exceptionClass === 'OutOfMemoryError') return true;
  const text = parsed.exceptionMessage ?? parsed.reason ?? '';
  return text.includes('CUDA out of memory');
}

/**
 * Formats pydantic's 422 `detail` list as `field: message (got input)` entries, one per field,
 * joined with `; `. The leading `body` of each `loc` is dropped because every field is in the body.
 */
export function formatValidationDetail(detail: readonly unknown[]): string {
  return detail.map(formatValidationItem).join('; ');
}

function formatValidationItem(item: unknown): string {
  if (!isRecord(item)) return String(item);
  const message = typeof item['msg'] === 'string' ? item['msg'] : 'invalid value';
  const location = Array.isArray(item['loc']) ? formatLocation(item['loc'], item['type']) : 'body';
  const shown = item['type'] !== 'missing' && 'input' in item;
  return shown
    ? `${location}: ${message} (got ${preview(item['input'])})`
    : `${location}: ${message}`;
}

function formatLocation(loc: readonly unknown[], type: unknown): string {
  const [first, ...rest] = loc;
  const inBody = first === 'body' || first === 'query' || first === 'path';
  const fields = inBody ? rest : loc;
  if (type === 'json_invalid') return `body (JSON) at position ${fields.map(String).join('.')}`;
  return fields.length === 0 ? String(first ?? 'body') : formatPath(fields);
}

/** Formats a path such as `['state', 'job_no']` or `[0, 'title']` as `state.job_no` / `[0].title`. */
export function formatPath(path: readonly PropertyKey[] | readonly unknown[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text === '' ? '(the whole body)' : text;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeBody(bodyText: string, status: number): string {
  const trimmed = bodyText.trim();
  if (trimmed === '') return `empty body (HTTP ${status})`;
  return trimmed.length > 200 ? `${trimmed.slice(0, 197)}...` : trimmed;
}

function describeCause(error: unknown): string {
  const code = errorCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (message !== '') return message;
  return code ?? 'unknown network error';
}

/**
 * Finds a Node or undici error code on the error, its `cause` chain, or the first member of an
 * AggregateError (Node reports one per address when `localhost` resolves to both ::1 and 127.0.0.1).
 */
export function errorCodeOf(error: unknown, depth = 0): string | undefined {
  if (!isRecord(error) || depth > 4) return undefined;
  if (typeof error['code'] === 'string') return error['code'];
  if (error instanceof AggregateError) return errorCodeOf(error.errors[0], depth + 1);
  return errorCodeOf(error['cause'], depth + 1);
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_BODY_CHARS ? text.slice(0, MAX_ERROR_BODY_CHARS) : text;
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
