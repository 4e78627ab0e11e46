/**
 * Progress, interrupt, skip, options and the refresh/unload routes: the ones a client calls
 * around a generation. Only the refresh routes Forge locks wait for a running generation.
 */
import type { SimContext } from '../engine/sim-context.js';
import { RequestValidationError } from '../http/errors.js';
import { isRecord, validateModel } from '../http/pydantic-validation.js';
import { PROGRESS_QUERY_MODEL } from '../http/request-models.js';
import type { Route } from '../http/router.js';
import { ok, route } from './route-kit.js';

/** Routes that read or steer the running generation and the settings. */
export function controlRoutes(context: SimContext): Route[] {
  const { state } = context;
  return [
    route('GET', '/sdapi/v1/progress', ({ query }) => {
      const skip = progressQuery(query);
      return ok(state.progressResponse(skip));
    }),
    route('POST', '/sdapi/v1/interrupt', () => {
      state.interrupt();
      return ok({});
    }),
    route('POST', '/sdapi/v1/skip', () => {
      state.skip();
      return ok(null);
    }),
    route('GET', '/sdapi/v1/options', () => ok(context.options.response())),
    route('POST', '/sdapi/v1/options', ({ body }) => setOptions(context, body), {
      readsBody: true,
    }),
    route('POST', '/sdapi/v1/refresh-checkpoints', () => underLock(context, null)),
    route('POST', '/sdapi/v1/refresh-vae', () => underLock(context, null)),
    route('POST', '/sdapi/v1/refresh-embeddings', () => underLock(context, null)),
    // The LoRA extension's refresh route is async and unlocked, and has no --api-auth.
    route('POST', '/sdapi/v1/refresh-loras', () => ok(null), { auth: false }),
    route('POST', '/sdapi/v1/unload-checkpoint', () => {
      context.models.unload();
      return ok({});
    }),
    route('POST', '/sdapi/v1/reload-checkpoint', () => ok({})),
  ];
}

/** `skip_current_image` from the query string, validated as FastAPI validates query models. */
function progressQuery(query: URLSearchParams): boolean {
  const raw = query.get('skip_current_image');
  const input = raw === null ? {} : { skip_current_image: raw };
  const result = validateModel(PROGRESS_QUERY_MODEL, input, ['query']);
  if (!result.ok) throw new RequestValidationError(result.issues);
  return result.value['skip_current_image'] === true;
}

function setOptions(context: SimContext, body: unknown) {
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
  if (!isRecord(body)) {
    throw new RequestValidationError([
      {
        type: 'dict_type',
        loc: ['body'],
        msg: 'Input should be a valid dictionary',
        input: body,
        url: 'https://errors.pydantic.dev/2.8/v/dict_type',
      },
    ]);
  }
  context.options.setConfig(body);
  return ok(null);
}

/** Routes whose Forge handler runs `with self.queue_lock:` and does quick work inside. */
async function underLock(context: SimContext, result: unknown) {
  await context.lock.run(() => context.wait(0));
  return ok(result);
}
