/**
 * The simulator's HTTP server: node:http, the route table, error bodies in Forge's shapes,
 * fault injection around requests, and a close that ends every connection and wait.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { parseApiAuth, type Credentials } from './http/auth.js';
import { HttpException, PythonException, RequestValidationError } from './http/errors.js';
import { writeReply, type Reply } from './http/response.js';
import { Router, runRoute } from './http/router.js';
import { SimContext, type SimStats } from './engine/sim-context.js';
import { adminRoutes, simState } from './routes/admin-routes.js';
import { controlRoutes } from './routes/control-routes.js';
import { generationRoutes } from './routes/generation-routes.js';
import { imageRoutes } from './routes/image-routes.js';
import { infoRoutes } from './routes/info-routes.js';
import { internalRoutes } from './routes/internal-routes.js';
import { openApiRoute } from './routes/openapi.js';
import { resolveSimOptions, type ForgeSimOptions, type SimFaults } from './sim-options.js';

/** Largest request body accepted; uvicorn has no limit, but the simulator keeps its memory. */
const MAX_BODY_BYTES = 256 * 1024 * 1024;

/** A running simulator. */
export interface ForgeSim {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  /** The port it listens on (useful with `port: 0`). */
  readonly port: number;
  /**
   * Changes some fault settings at run time.
   *
   * @throws SimOptionsError for an unknown key or an out-of-range value
   */
  setFaults(faults: Partial<SimFaults>): void;
  /** Counters of what happened so far. */
  stats(): SimStats;
  /** The same snapshot as `GET /_sim/state`. */
  state(): Record<string, unknown>;
  /** Closes the server, destroys open connections and ends running generations; idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a simulated Forge server.
 *
 * @throws SimOptionsError for invalid options, Error for a bad `apiAuth`, and the listen error
 *   (e.g. `EADDRINUSE`) when the port cannot be bound
 * @example
 * const sim = await startForgeSim({ port: 0, stepMs: 5 });
 * const response = await fetch(`${sim.url}/sdapi/v1/txt2img`, { method: 'POST', body: '{"steps": 4}' });
 * await sim.close();
 */
export async function startForgeSim(options: ForgeSimOptions = {}): Promise<ForgeSim> {
  const settings = resolveSimOptions(options);
  const credentials = settings.apiAuth === '' ? undefined : parseApiAuth(settings.apiAuth);
  const server = new ForgeSimServer(new SimContext(settings), credentials);
  await server.listen();
  return server;
}

class ForgeSimServer implements ForgeSim {
  readonly #context: SimContext;
  readonly #credentials: Credentials | undefined;
  readonly #router = new Router();
  readonly #http: Server;
  readonly #sockets = new Set<Socket>();
  #closing: Promise<void> | undefined;

  constructor(context: SimContext, credentials: Credentials | undefined) {
    this.#context = context;
    this.#credentials = credentials;
    this.#registerRoutes();
    this.#http = createServer((request, response) => void this.#handle(request, response));
    this.#http.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  get port(): number {
    return (this.#http.address() as AddressInfo | null)?.port ?? 0;
  }

  get url(): string {
    const host = this.#context.settings.host;
    const shown = host.includes(':') ? `[${host}]` : host;
    return `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${this.port}`;
  }

  listen(): Promise<void> {
    const { port, host } = this.#context.settings;
    return new Promise((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(port, host, () => {
        this.#http.off('error', reject);
        this.#context.log(`listening on ${this.url} (${this.#context.settings.mode} mode)`);
        resolve();
      });
    });
  }

  setFaults(faults: Partial<SimFaults>): void {
    this.#context.faults.update(faults);
  }

  stats(): SimStats {
    return { ...this.#context.stats, modelLoads: this.#context.models.loadCount };
  }

  state(): Record<string, unknown> {
    return simState(this.#context);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise((resolve) => {
      this.#context.abortWaits();
      this.#http.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }

  #registerRoutes(): void {
    const context = this.#context;
    const groups = [
      generationRoutes(context),
      imageRoutes(context),
      controlRoutes(context),
      infoRoutes(context),
      context.settings.mode === 'webui' ? internalRoutes(context) : [],
      adminRoutes(context),
      [openApiRoute(() => this.#router.routes())],
    ];
    for (const group of groups) for (const entry of group) this.#router.add(entry);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const context = this.#context;
    context.stats.requests += 1;
    const started = Date.now();
    let reply: Reply;
    try {
      const body = await readBody(request);
      reply = await this.#dispatch(request, body);
    } catch (error) {
      reply = errorReply(error, context);
    }
    try {
      await writeReply(request, response, reply);
    } catch {
      response.socket?.destroy();
    }
    context.log(
      `${request.method ?? '?'} ${request.url ?? '?'} ${reply.status} ${Date.now() - started}ms`,
    );
  }

  async #dispatch(request: IncomingMessage, body: Buffer): Promise<Reply> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = this.#router.match(request.method ?? 'GET', url.pathname);
    if (!url.pathname.startsWith('/_sim/')) await this.#slowStart();
    switch (match.kind) {
      case 'not-found':
        return { status: 404, body: { detail: 'Not Found' } };
      case 'method-not-allowed':
        return {
          status: 405,
          body: { detail: 'Method Not Allowed' },
          headers: { allow: match.allow },
        };
      case 'redirect':
        return redirectReply(request, match.path, url.search);
      case 'found':
        return runRoute(match.route, request, url, body, this.#credentials);
    }
  }

  async #slowStart(): Promise<void> {
    const waitMs = this.#context.faults.slowStartWaitMs(Date.now() - this.#context.startedAtMs);
    await this.#context.stall(waitMs);
  }
}

function redirectReply(request: IncomingMessage, path: string, search: string): Reply {
  const host = request.headers.host ?? 'localhost';
  return {
    status: 307,
    body: Buffer.alloc(0),
    headers: { location: `http://${host}${path}${search}` },
  };
}

/** Reads the whole request body, refusing absurd sizes. */
function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpException(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Maps a thrown error to Forge's body for it (forge-api.md §6). */
function errorReply(error: unknown, context: SimContext): Reply {
  if (error instanceof RequestValidationError)
    return { status: 422, body: { detail: error.issues } };
  if (error instanceof HttpException) {
    return { status: error.statusCode, body: { detail: error.detail }, headers: error.headers };
  }
  if (error instanceof PythonException) {
    return { status: 500, body: exceptionBody(error.pythonClass, error.pythonMessage) };
  }
  const name = error instanceof Error ? error.name : 'Exception';
  const message = error instanceof Error ? error.message : String(error);
  if (context.closingSignal.aborted)
    return { status: 503, body: exceptionBody('RuntimeError', 'server is shutting down') };
  context.log(`internal error: ${error instanceof Error ? (error.stack ?? message) : message}`);
  return { status: 500, body: exceptionBody(name === 'Error' ? 'Exception' : name, message) };
}

function exceptionBody(pythonClass: string, message: string): Record<string, string> {
  return { error: pythonClass, detail: '', body: '', message };
}
