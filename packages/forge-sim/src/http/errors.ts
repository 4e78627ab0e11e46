/**
 * The three kinds of failure a Forge server answers with (forge-api.md §6), as throwable
 * values. The server turns each into its exact HTTP body.
 */
import { isPyFloat } from '../python-format.js';
import type { ValidationIssue } from './pydantic-validation.js';

/**
 * FastAPI's `HTTPException`: the body is `{"detail": <detail>}` with the given status and
 * headers (Forge never installs the A1111 middleware that would reshape it).
 */
export class HttpException extends Error {
  /** The HTTP status code. */
  readonly statusCode: number;
  /** The `detail` value of the body. */
  readonly detail: unknown;
  /** Extra response headers, e.g. `WWW-Authenticate`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, detail: unknown, headers: Record<string, string> = {}) {
    super(typeof detail === 'string' ? detail : `HTTP ${statusCode}`);
    this.name = 'HttpException';
    this.statusCode = statusCode;
    this.detail = detail;
    this.headers = headers;
  }
}

/** FastAPI's `RequestValidationError`: a 422 whose `detail` is the list of pydantic issues. */
export class RequestValidationError extends Error {
  /** The issues, in the order pydantic found them. */
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[]) {
    super(`request validation failed: ${issues.map((item) => item.msg).join('; ')}`);
    this.name = 'RequestValidationError';
    this.issues = issues;
  }
}

/**
 * Any other Python exception raised in a handler. Forge's catch-all handler answers
 * `{"error": <class>, "detail": "", "body": "", "message": str(e)}` with status 500.
 */
export class PythonException extends Error {
  /** The Python exception class name, e.g. `RuntimeError` or `OutOfMemoryError`. */
  readonly pythonClass: string;
  /** `str(e)` in Python. */
  readonly pythonMessage: string;

  constructor(pythonClass: string, pythonMessage: string) {
    super(`${pythonClass}: ${pythonMessage}`);
    this.name = 'PythonException';
    this.pythonClass = pythonClass;
    this.pythonMessage = pythonMessage;
  }
}

/** Python's `str(KeyError(key))`: the key's repr, e.g. `'foo'`. */
export function keyError(key: string): PythonException {
  const quote = key.includes("'") && !key.includes('"') ? '"' : "'";
  return new PythonException('KeyError', `${quote}${key}${quote}`);
}

/** Python's `type(value).__name__` for a JSON value, as error messages quote it. */
export function pythonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (isPyFloat(value)) return 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}
