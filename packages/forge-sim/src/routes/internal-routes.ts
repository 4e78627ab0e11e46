/**
 * The Gradio UI's own routes that API clients use too (`modules/progress.py`, webui mode
 * only): ping, queue position and completion by task id, and the pending task list.
 */
import type { SimContext } from '../engine/sim-context.js';
import { INTERNAL_PROGRESS_MODEL } from '../http/request-models.js';
import type { Route } from '../http/router.js';
import { ok, parseBody, route } from './route-kit.js';

/** `/internal/ping`, `/internal/progress` and `/internal/pending-tasks` (no `--api-auth`). */
export function internalRoutes(context: SimContext): Route[] {
  return [
    route('GET', '/internal/ping', () => ok({}), { auth: false }),
    route('POST', '/internal/progress', ({ body }) => ok(internalProgress(context, body)), {
      auth: false,
      readsBody: true,
    }),
    route('GET', '/internal/pending-tasks', () => ok(pendingTasks(context)), { auth: false }),
  ];
}

function pendingTasks(context: SimContext): Record<string, unknown> {
  const tasks = context.tasks.snapshot().pending;
  return { size: tasks.length, tasks };
}

/** `progressapi` of `modules/progress.py`. */
function internalProgress(context: SimContext, body: unknown): Record<string, unknown> {
  const request = parseBody(INTERNAL_PROGRESS_MODEL, body);
  const idTask = request['id_task'] as string | null;
  const { tasks } = context;
  // Forge compares with `==`, so a request without an id matches "no current task".
  const active = idTask === tasks.current;
  const queued = tasks.isPending(idTask);
  const completed = tasks.isFinished(idTask);
  if (!active) {
    return {
      active,
      queued,
      completed,
      progress: null,
      eta: null,
      live_preview: null,
      id_live_preview: -1,
      textinfo: queued ? queuePosition(context, idTask ?? '') : 'Waiting...',
    };
  }
  const progress = context.state.activeTaskProgress(
    request['id_live_preview'] as number,
    request['live_preview'] as boolean,
  );
  return { ...progress, queued, completed };
}

function queuePosition(context: SimContext, idTask: string): string {
  const order = context.tasks.pendingInQueueOrder();
  return `In queue: ${order.indexOf(idTask) + 1}/${order.length}`;
}
