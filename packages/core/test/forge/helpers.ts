// Shared helpers of the Forge client tests: free ports, tiny HTTP servers, error assertions.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { ForgeError, type ForgeErrorCode } from '../../src/forge/forge-error.js';
import type { ForgeClient, ProgressOptions } from '../../src/forge/forge-client.js';
import type { ProgressResponse } from '../../src/forge/generation-schemas.js';

/** The eight bytes every PNG starts with. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether `bytes` starts like a PNG file. */
export function isPng(bytes: Buffer): boolean {
  return bytes.subarray(0, 8).equals(PNG_SIGNATURE);
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(bytes: Buffer): { width: number; height: number } {
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** Awaits `promise`, expects it to reject with a ForgeError of `code`, and returns that error. */
export async function expectForgeError(
  promise: Promise<unknown>,
  code: ForgeErrorCode,
): Promise<ForgeError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ForgeError);
  const forgeError = error as ForgeError;
  expect(forgeError.code, forgeError.message).toBe(code);
  return forgeError;
}

/** A TCP port nobody listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A node:http server on port 0 answering with `handler`; `close()` also drops open sockets. */
export interface TinyServer {
  url: string;
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

/** Starts a {@link TinyServer}. */
export async function startTinyServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<TinyServer> {
  const requests: TinyServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
    });
    request.resume();
    request.on('end', () => handler(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls progress until `done` says so, or fails after `limitMs`. */
export async function pollProgress(
  client: ForgeClient,
  done: (progress: ProgressResponse) => boolean,
  options: ProgressOptions & { limitMs?: number; everyMs?: number } = {},
): Promise<ProgressResponse> {
  const { limitMs = 10_000, everyMs = 5, ...progressOptions } = options;
  const giveUpAt = Date.now() + limitMs;
  for (;;) {
    const progress = await client.progress(progressOptions);
    if (done(progress)) return progress;
    if (Date.now() > giveUpAt)
      throw new Error(`progress never matched: ${JSON.stringify(progress)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** True while Forge is sampling a job. */
export function isSampling(progress: ProgressResponse): boolean {
  return progress.state.job_count > 0 && progress.state.sampling_step > 0;
}
