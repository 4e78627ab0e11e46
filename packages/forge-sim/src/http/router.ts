/**
 * Route table and the request pipeline FastAPI runs for each route: match (404, 405, slash
 * redirect), read the JSON body (422 `json_invalid`, 400 on undecodable bytes), then the auth
 * dependency (401), then the handler (which validates its model: 422).
 */
import type { IncomingMessage } from 'node:http';

import { checkBasicAuth, type Credentials } from './auth.js';
import { HttpException, RequestValidationError } from './errors.js';
import { BodyDecodeError, parsePythonJson, PythonJsonError } from './python-json.js';
import type { Reply } from './response.js';

/** HTTP methods the simulator routes. */
export type HttpMethod = 'GET' | 'POST' | 'PUT';

/** Everything a handler needs to know about its request. */
export interface RouteContext {
  readonly request: IncomingMessage;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /**
   * The decoded body: a JSON value, `undefined` when the body is empty (FastAPI's "missing"),
   * or the raw text when the content type is not JSON.
   */
  readonly body: unknown;
  /** The body bytes as received (for routes that parse it their own way). */
  readonly rawBody: Buffer;
}

/** A route handler: returns the reply, or throws one of the errors of `errors.ts`. */
export type RouteHandler = (context: RouteContext) => Promise<Reply> | Reply;

/** One route. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  /** Whether `--api-auth` applies (Forge's `Api.add_api_route` routes). */
  readonly auth: boolean;
  /** Whether the route declares a body parameter, so FastAPI reads and parses the body. */
  readonly readsBody: boolean;
  readonly handler: RouteHandler;
}

/** The outcome of matching a method and path. */
export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route }
  | { readonly kind: 'method-not-allowed'; readonly allow: string }
  | { readonly kind: 'redirect'; readonly path: string }
  | { readonly kind: 'not-found' };

/** An ordered route table. */
export class Router {
  readonly #routes: Route[] = [];

  add(route: Route): void {
    this.#routes.push(route);
  }

  /** Every registered route, in registration order. */
  routes(): readonly Route[] {
    return this.#routes;
  }

  /**
   * Starlette's matching: the first route with the same path and method wins; a path that
   * exists only with other methods is a 405 naming the first such route's method; otherwise
   * the path with its trailing slash toggled is tried for a 307 redirect.
   */
  match(method: string, path: string): RouteMatch {
    const direct = this.#matchExact(method, path);
    if (direct.kind !== 'not-found') return direct;
    const toggled = path.endsWith('/') ? path.replace(/\/+$/, '') : `${path}/`;
    if (toggled !== '' && this.#matchExact(method, toggled).kind !== 'not-found') {
      return { kind: 'redirect', path: toggled };
    }
    return direct;
  }

  #matchExact(method: string, path: string): RouteMatch {
    const samePath = this.#routes.filter((route) => route.path === path);
    const route = samePath.find((candidate) => candidate.method === method);
    if (route) return { kind: 'found', route };
    const first = samePath[0];
    return first ? { kind: 'method-not-allowed', allow: first.method } : { kind: 'not-found' };
  }
}

/**
 * Decodes the body of a route that reads one, as FastAPI 0.104 does before any dependency.
 *
 * @throws RequestValidationError `json_invalid` for malformed JSON
 * @throws HttpException 400 when the bytes are not decodable text
 */
export function decodeBody(request: IncomingMessage, bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  if (!isJsonContentType(request.headers['content-type'])) return bytes.toString('utf8');
  try {
    const value = parsePythonJson(bytes);
    return value === null ? undefined : value;
  } catch (error) {
    if (error instanceof PythonJsonError) {
      throw new RequestValidationError([
        {
          type: 'json_invalid',
          loc: ['body', error.position],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: error.pythonMessage },
        },
      ]);
    }
    if (error instanceof BodyDecodeError) {
      throw new HttpException(400, 'There was an error parsing the body');
    }
    throw error;
  }
}

/** No content type counts as JSON; otherwise `application/json` or `application/*+json`. */
function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined || header.trim() === '') return true;
  const mediaType = (header.split(';')[0] ?? '').trim().toLowerCase();
  const [main, sub = ''] = mediaType.split('/');
  return main === 'application' && (sub === 'json' || sub.endsWith('+json'));
}

/**
 * Runs one matched route: body, then auth, then the handler.
 *
 * @param credentials - the `--api-auth` users, or undefined when auth is off
 */
export async function runRoute(
  route: Route,
  request: IncomingMessage,
  url: URL,
  bodyBytes: Buffer,
  credentials: Credentials | undefined,
): Promise<Reply> {
  const body = route.readsBody ? decodeBody(request, bodyBytes) : undefined;
  if (route.auth && credentials) checkBasicAuth(request.headers.authorization, credentials);
  return route.handler({
    request,
    method: request.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    body,
    rawBody: bodyBytes,
  });
}
