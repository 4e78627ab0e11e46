/**
 * The HTTP layer under {@link ForgeClient}: one undici keep-alive pool per Forge server, a deadline
 * and an abort path per request, and the checks every answer goes through (status, JSON, schema).
 */
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import type { z } from 'zod';
import {
  ForgeError,
  forgeBadResponseError,
  forgeHttpError,
  forgeTransportError,
  formatPath,
  type ForgeRequestContext,
} from './forge-error.js';
import {
  checkCallOptions,
  type ForgeCallOptions,
  type ResolvedForgeClientOptions,
} from './forge-client-options.js';
import type { Logger } from '../logger.js';

/** Which deadline a request gets: generation calls wait minutes, everything else seconds. */
export type ForgeRequestKind = 'generation' | 'probe';

/** One request to Forge: where it goes and what it sends. */
export interface ForgeRequestTarget {
  /** HTTP method. */
  method: 'GET' | 'POST';
  /** Endpoint path below the base URL, e.g. `/sdapi/v1/progress`. */
  path: string;
  /** Query parameters, if any. */
  query?: Record<string, string>;
  /** JSON body, if any. */
  body?: unknown;
  /** Picks the default deadline. */
  kind: ForgeRequestKind;
}

/** One request to Forge and the schema its 2xx answer must match. */
export interface ForgeRequestSpec<Output> extends ForgeRequestTarget {
  /** Checks (and may transform) the parsed JSON answer. */
  schema: z.ZodType<Output>;
}

type ResponseBody = Dispatcher.ResponseData['body'];

/** How one kind of request reads its answer's body, and then checks what it read. */
interface AnswerHandling<Payload, Output> {
  read(status: number, body: ResponseBody): Promise<Payload>;
  accept(context: ForgeRequestContext, status: number, payload: Payload): Output;
}

/**
 * Forge errors travel on with their code; anything else thrown while a request is in the air is a
 * transport failure.
 */
export class ForgeTransport {
  readonly #options: ResolvedForgeClientOptions;
  readonly #pool: Pool;
  readonly #logger: Logger;
  #closed = false;

  constructor(options: ResolvedForgeClientOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ backend: options.name });
    this.#pool = new Pool(options.origin, {
      connections: options.connections,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      connect: { timeout: Math.min(options.probeTimeoutMs, 10_000) },
    });
  }

  /**
   * Sends one request and returns its checked answer.
   * @throws ForgeError with the code that says what went wrong
   * @throws ConfigError when the call options are invalid
   */
  async request<Output>(
    spec: ForgeRequestSpec<Output>,
    callOptions?: ForgeCallOptions,
  ): Promise<Output> {
    return this.#send(spec, callOptions, {
      read: async (_status, body) => body.text(),
      accept: (context, status, text) => acceptAnswer(context, spec.schema, status, text),
    });
  }

  /**
   * Sends one request and returns its 2xx body as undecoded bytes, in an ArrayBuffer of its own
   * (so it can be transferred to a worker thread). A non-2xx answer fails exactly as in
   * {@link ForgeTransport.request}; the body is neither parsed nor checked.
   * @throws ForgeError with the code that says what went wrong
   * @throws ConfigError when the call options are invalid
   */
  async requestBytes(
    target: ForgeRequestTarget,
    callOptions?: ForgeCallOptions,
  ): Promise<Uint8Array> {
    return this.#send(target, callOptions, {
      read: async (status, body): Promise<string | Uint8Array> =>
        isSuccess(status) ? new Uint8Array(await body.arrayBuffer()) : body.text(),
      accept: (context, status, payload) => {
        if (typeof payload === 'string') throw forgeHttpError(context, status, payload);
        return payload;
      },
    });
  }

  async #send<Payload, Output>(
    target: ForgeRequestTarget,
    callOptions: ForgeCallOptions | undefined,
    handling: AnswerHandling<Payload, Output>,
  ): Promise<Output> {
    const call = checkCallOptions(callOptions);
    const context = { backend: this.#options.name, method: target.method, endpoint: target.path };
    const timeoutMs = call.timeoutMs ?? this.#defaultTimeoutMs(target.kind);
    this.#refuseIfUnusable(context, call.signal);

    const deadline = new RequestDeadline(timeoutMs, call.signal);
    const startedAt = performance.now();
    try {
      const response = await this.#dispatch(target, deadline.signal, timeoutMs);
      const payload = await handling.read(response.statusCode, response.body);
      this.#logDone(context, response.statusCode, startedAt);
      return handling.accept(context, response.statusCode, payload);
    } catch (error) {
      const failure = this.#asForgeError(context, error, deadline, timeoutMs);
      this.#logger.debug(
        {
          method: target.method,
          endpoint: target.path,
          code: failure.code,
          durationMs: since(startedAt),
        },
        'forge request failed',
      );
      throw failure;
    } finally {
      deadline.dispose();
    }
  }

  /** Closes the pool once the requests in flight have finished; later calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.close();
  }

  /** Closes the pool at once; requests in flight fail with `FT_ERR_FORGE_ABORTED`. */
  async destroy(): Promise<void> {
    this.#closed = true;
    if (this.#pool.destroyed) return;
    await this.#pool.destroy();
  }

  async #dispatch(
    target: ForgeRequestTarget,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#options.authorization !== undefined) {
      headers['authorization'] = this.#options.authorization;
    }
    if (target.body !== undefined) headers['content-type'] = 'application/json';

    return this.#pool.request({
      method: target.method,
      path: this.#pathOf(target),
      headers,
      body: target.body === undefined ? null : JSON.stringify(target.body),
      signal,
      // undici's own limits default to 5 minutes, shorter than a long generation.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  #pathOf(target: ForgeRequestTarget): string {
    const path = `${this.#options.pathPrefix}${target.path}`;
    if (target.query === undefined) return path;
    return `${path}?${new URLSearchParams(target.query).toString()}`;
  }

  #defaultTimeoutMs(kind: ForgeRequestKind): number {
    return kind === 'generation' ? this.#options.generationTimeoutMs : this.#options.probeTimeoutMs;
  }

  #refuseIfUnusable(context: ForgeRequestContext, signal: AbortSignal | undefined): void {
    const where = `${context.method} ${context.endpoint}`;
    if (this.#closed) {
      throw new ForgeError(
        'FT_ERR_FORGE_ABORTED',
        `${where} to Forge backend "${context.backend}" was not sent: the client is closed`,
        context,
      );
    }
    if (signal?.aborted === true) {
      throw new ForgeError(
        'FT_ERR_FORGE_ABORTED',
        `${where} to Forge backend "${context.backend}" was not sent: the signal was already aborted`,
        { ...context, cause: signal.reason },
      );
    }
  }

  #asForgeError(
    context: ForgeRequestContext,
    error: unknown,
    deadline: RequestDeadline,
    timeoutMs: number,
  ): ForgeError {
    if (error instanceof ForgeError) return error;
    return forgeTransportError(context, error, {
      timedOut: deadline.timedOut,
      aborted: deadline.callerAborted || this.#pool.destroyed,
      timeoutMs,
      origin: this.#options.origin,
    });
  }

  #logDone(context: ForgeRequestContext, status: number, startedAt: number): void {
    this.#logger.debug(
      { method: context.method, endpoint: context.endpoint, status, durationMs: since(startedAt) },
      'forge request done',
    );
  }
}

/** Checks status, JSON and shape of an answer; returns the schema's output. */
function acceptAnswer<Output>(
  context: ForgeRequestContext,
  schema: z.ZodType<Output>,
  status: number,
  text: string,
): Output {
  if (!isSuccess(status)) throw forgeHttpError(context, status, text);

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const problem = `the body is not JSON (${describeNonJson(text)})`;
    throw forgeBadResponseError(context, status, text, problem, error);
  }

  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const problem =
    issue === undefined
      ? 'the body has the wrong shape'
      : `${formatPath(issue.path)}: ${issue.message}`;
  throw forgeBadResponseError(context, status, text, problem, result.error);
}

function isSuccess(status: number): boolean {
  return status >= 200 && status <= 299;
}

function describeNonJson(text: string): string {
  const start = text.trim().slice(0, 40);
  return start === '' ? 'empty body' : `starts with ${JSON.stringify(start)}`;
}

function since(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}

/**
 * One request's deadline and the caller's signal folded into one AbortSignal, remembering which of
 * the two fired: undici reports both as the same abort.
 */
class RequestDeadline {
  readonly signal: AbortSignal;
  timedOut = false;
  callerAborted = false;
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #caller: AbortSignal | undefined;
  readonly #onCallerAbort = (): void => {
    if (this.timedOut) return;
    this.callerAborted = true;
    this.#controller.abort(this.#caller?.reason);
  };

  constructor(timeoutMs: number, caller: AbortSignal | undefined) {
    this.signal = this.#controller.signal;
    this.#caller = caller;
    caller?.addEventListener('abort', this.#onCallerAbort, { once: true });
    this.#timer = setTimeout(() => {
      if (this.callerAborted) return;
      this.timedOut = true;
      this.#controller.abort(new Error(`deadline of ${timeoutMs} ms passed`));
    }, timeoutMs);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#caller?.removeEventListener('abort', this.#onCallerAbort);
  }
}
