/**
 * Forge's `--api-auth` HTTP Basic check: FastAPI's `HTTPBasic()` dependency followed by
 * `Api.auth`, with their exact 401 bodies and headers.
 */
import { timingSafeEqual } from 'node:crypto';

import { HttpException } from './errors.js';

const CHALLENGE = { 'www-authenticate': 'Basic' } as const;

/** The accepted user names and their passwords. */
export type Credentials = ReadonlyMap<string, string>;

/**
 * Parses Forge's `--api-auth` value, `user:pass,user2:pass2`.
 *
 * @throws Error when an entry does not contain exactly one colon (Forge fails at start too)
 */
export function parseApiAuth(value: string): Credentials {
  const credentials = new Map<string, string>();
  for (const entry of value.split(',')) {
    const parts = entry.split(':');
    if (parts.length !== 2) {
      throw new Error(
        `apiAuth entry "${entry}" must be "user:password" with exactly one colon ` +
          '(several entries are separated by commas)',
      );
    }
    credentials.set(parts[0] ?? '', parts[1] ?? '');
  }
  return credentials;
}

/**
 * Checks an `Authorization` header against the credentials.
 *
 * @throws HttpException 401 with FastAPI's or Forge's exact detail text
 */
export function checkBasicAuth(header: string | undefined, credentials: Credentials): void {
  const [scheme = '', param = ''] = splitOnce(header ?? '', ' ');
  if (!header || scheme.toLowerCase() !== 'basic') {
    throw new HttpException(401, 'Not authenticated', CHALLENGE);
  }
  const decoded = decodePythonBase64Ascii(param);
  const colon = decoded?.indexOf(':') ?? -1;
  if (decoded === undefined || colon < 0) {
    throw new HttpException(401, 'Invalid authentication credentials', CHALLENGE);
  }
  const user = decoded.slice(0, colon);
  const expected = credentials.get(user);
  if (expected === undefined || !sameText(decoded.slice(colon + 1), expected)) {
    throw new HttpException(401, 'Incorrect username or password', CHALLENGE);
  }
}

function splitOnce(text: string, separator: string): [string, string] {
  const index = text.indexOf(separator);
  return index < 0 ? [text, ''] : [text.slice(0, index), text.slice(index + 1)];
}

/**
 * Python's `b64decode(value).decode("ascii")`: characters outside the base64 alphabet are
 * skipped, missing padding is an error, and so is any byte above 0x7f.
 */
function decodePythonBase64Ascii(value: string): string | undefined {
  const cleaned = value.replace(/[^A-Za-z0-9+/=]/g, '');
  const data = cleaned.replace(/=+$/, '');
  if (data.includes('=') || data.length % 4 === 1) return undefined;
  const padding = cleaned.length - data.length;
  if (data.length % 4 !== 0 && (data.length % 4) + padding < 4) return undefined;
  const bytes = Buffer.from(data, 'base64');
  if (bytes.some((byte) => byte > 0x7f)) return undefined;
  return bytes.toString('latin1');
}

function sameText(actual: string, expected: string): boolean {
  const a = Buffer.from(actual, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
