/**
 * The simulator's own control routes under `/_sim/` (a real Forge has none): read and change
 * the injected faults, inspect the simulated process, and reset it between tests.
 */
import type { SimContext } from '../engine/sim-context.js';
import { emptyStats } from '../engine/sim-context.js';
import { HttpException } from '../http/errors.js';
import type { Route } from '../http/router.js';
import { checkpointTitle } from '../catalog/index.js';
import { SimOptionsError } from '../sim-options.js';
import { ok, route } from './route-kit.js';

/** `GET/PUT /_sim/faults`, `GET /_sim/state`, `POST /_sim/reset` (never behind `--api-auth`). */
export function adminRoutes(context: SimContext): Route[] {
  return [
    route('GET', '/_sim/faults', () => ok(context.faults.current), { auth: false }),
    route('PUT', '/_sim/faults', ({ rawBody }) => ok(updateFaults(context, rawBody)), {
      auth: false,
    }),
    route('GET', '/_sim/state', () => ok(simState(context)), { auth: false }),
    route('POST', '/_sim/reset', () => ok(resetSim(context)), { auth: false }),
  ];
}

function updateFaults(context: SimContext, rawBody: Buffer): unknown {
  let update: unknown;
  try {
    update = JSON.parse(rawBody.toString('utf8')) as unknown;
  } catch {
    throw new HttpException(
      400,
      'the body must be a JSON object of fault settings, e.g. {"failureRate": 0.5}',
    );
  }
  try {
    return context.faults.update(update);
  } catch (error) {
    if (error instanceof SimOptionsError) throw new HttpException(400, error.message);
    throw error;
  }
}

/** A snapshot of the simulated process for tests and dashboards. */
export function simState(context: SimContext): Record<string, unknown> {
  const loaded = context.models.loaded;
  return {
    mode: context.settings.mode,
    uptimeMs: Date.now() - context.startedAtMs,
    state: context.state.dict(),
    tasks: context.tasks.snapshot(),
    lock: { held: context.lock.isHeld, waiting: context.lock.waiting },
    loadedCheckpoint: loaded ? checkpointTitle(loaded) : null,
    selectedCheckpoint: context.options.get('sd_model_checkpoint') ?? null,
    faults: context.faults.current,
    stats: { ...context.stats, modelLoads: context.models.loadCount },
  };
}

/**
 * Restores the state at start: options, loaded model, task lists, counters and faults.
 *
 * @throws HttpException 409 while a generation runs or waits, since resetting under it would
 *   leave that request in an impossible state
 */
function resetSim(context: SimContext): Record<string, unknown> {
  if (context.lock.isHeld || context.lock.waiting > 0) {
    throw new HttpException(
      409,
      'cannot reset while a request holds or waits for the generation lock',
    );
  }
  context.options.reset();
  context.models.reset((key) => context.options.get(key));
  context.tasks.clear();
  context.faults.reset();
  context.stats = emptyStats();
  context.state.reset();
  return simState(context);
}
