/**
 * Small helpers shared by the route modules.
 */
import { RequestValidationError } from '../http/errors.js';
import { validateModel, type ModelSpec } from '../http/pydantic-validation.js';
import type { Reply } from '../http/response.js';
import type { HttpMethod, Route, RouteHandler } from '../http/router.js';

/** A 200 JSON reply. */
export function ok(body: unknown): Reply {
  return { status: 200, body };
}

/**
 * Validates a body against a model, as FastAPI does for a route's single body parameter.
 *
 * @throws RequestValidationError with every issue pydantic would report
 */
export function parseBody(model: ModelSpec, body: unknown): Record<string, unknown> {
  if (body === undefined) {
    throw new RequestValidationError([
      {
        type: 'missing',
        loc: ['body'],
        msg: 'Field required',
        input: null,
        url: 'https://errors.pydantic.dev/2.8/v/missing',
      },
    ]);
  }
  const result = validateModel(model, body, ['body']);
  if (!result.ok) throw new RequestValidationError(result.issues);
  return result.value;
}

/** Declares a route; `auth` defaults to true (every `Api.add_api_route` route has it). */
export function route(
  method: HttpMethod,
  path: string,
  handler: RouteHandler,
  settings: { readonly auth?: boolean; readonly readsBody?: boolean } = {},
): Route {
  return {
    method,
    path,
    handler,
    auth: settings.auth ?? true,
    readsBody: settings.readsBody ?? false,
  };
}
