/**
 * Writing responses the way uvicorn + Starlette write Forge's: compact UTF-8 JSON with Python's
 * number formatting, `server: uvicorn`, and Starlette's GZip middleware (bodies of at least
 * 1000 bytes, when the client's `Accept-Encoding` mentions gzip).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

import { pyJsonDumps } from '../python-format.js';

const gzipAsync = promisify(gzip);

/** Starlette's `GZipMiddleware(minimum_size=1000)`, as Forge configures it. */
export const GZIP_MINIMUM_BYTES = 1000;

/** How a fault-injected response breaks the connection. */
export type DropMode = 'before-headers' | 'mid-body';

/** A response ready to be written. */
export interface Reply {
  /** HTTP status. */
  readonly status: number;
  /** The JSON body (Python-typed: {@link PyFloat} values print as floats), or raw bytes. */
  readonly body: unknown;
  /** Extra headers, e.g. `www-authenticate` or `location`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Set for raw bodies; JSON bodies are `application/json`. */
  readonly contentType?: string;
  /** Breaks the connection instead of answering whole (fault injection). */
  readonly drop?: DropMode;
}

/** Serializes a body as Starlette's `JSONResponse.render` does. */
export function renderJson(body: unknown): Buffer {
  return Buffer.from(pyJsonDumps(body, { ensureAscii: false, separators: [',', ':'] }), 'utf8');
}

/**
 * Writes a reply, compressing it when Starlette would.
 *
 * @returns once the bytes are handed to the socket (or the socket was destroyed on purpose)
 */
export async function writeReply(
  request: IncomingMessage,
  response: ServerResponse,
  reply: Reply,
): Promise<void> {
  if (reply.drop === 'before-headers') {
    response.socket?.destroy();
    return;
  }
  let bytes = Buffer.isBuffer(reply.body) ? reply.body : renderJson(reply.body);
  const headers: Record<string, string> = {
    date: new Date().toUTCString(),
    server: 'uvicorn',
    'content-length': String(bytes.length),
    'content-type': reply.contentType ?? 'application/json',
    ...reply.headers,
  };
  if (wantsGzip(request) && bytes.length >= GZIP_MINIMUM_BYTES) {
    bytes = await gzipAsync(bytes);
    headers['content-encoding'] = 'gzip';
    headers['content-length'] = String(bytes.length);
    headers.vary = 'Accept-Encoding';
  }
  if (reply.status === 204 || reply.status === 304 || request.method === 'HEAD')
    bytes = Buffer.alloc(0);

  response.sendDate = false;
  response.writeHead(reply.status, headers);
  if (reply.drop === 'mid-body') {
    dropMidBody(response, bytes);
    return;
  }
  await new Promise<void>((resolve) => response.end(bytes, resolve));
}

function wantsGzip(request: IncomingMessage): boolean {
  const accepted = request.headers['accept-encoding'];
  return typeof accepted === 'string' && accepted.includes('gzip');
}

/** Sends the headers and the first half of the body, then cuts the connection. */
function dropMidBody(response: ServerResponse, bytes: Buffer): void {
  const half = bytes.subarray(0, Math.floor(bytes.length / 2));
  response.write(half, () => response.socket?.destroy());
}
