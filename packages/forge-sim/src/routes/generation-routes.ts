/**
 * `POST /sdapi/v1/txt2img` and `POST /sdapi/v1/img2img`: validate, check, queue behind the FIFO
 * lock, generate, answer `{images, parameters, info}`.
 */
import type { GenerationMode } from '../catalog/index.js';
import { prepareGeneration } from '../engine/generation-request.js';
import { GenerationRun } from '../engine/generation-run.js';
import { RequestValues } from '../engine/request-values.js';
import type { SimContext } from '../engine/sim-context.js';
import { isRecord } from '../http/pydantic-validation.js';
import { IMG2IMG_MODEL, TXT2IMG_MODEL } from '../http/request-models.js';
import type { Reply } from '../http/response.js';
import type { Route } from '../http/router.js';
import { parseBody, route } from './route-kit.js';

/** The two generation routes. */
export function generationRoutes(context: SimContext): Route[] {
  return [
    route('POST', '/sdapi/v1/txt2img', ({ body }) => generate(context, 'txt2img', body), {
      readsBody: true,
    }),
    route('POST', '/sdapi/v1/img2img', ({ body }) => generate(context, 'img2img', body), {
      readsBody: true,
    }),
  ];
}

async function generate(context: SimContext, mode: GenerationMode, body: unknown): Promise<Reply> {
  const values = new RequestValues(
    parseBody(mode === 'txt2img' ? TXT2IMG_MODEL : IMG2IMG_MODEL, body),
  );
  const sentKeys = new Set(isRecord(body) ? Object.keys(body) : []);
  try {
    const request = await prepareGeneration(context, mode, values, sentKeys);
    const plan = context.faults.plan();
    context.tasks.addPending(request.taskId, Date.now());
    const output = await context.lock.run(() =>
      new GenerationRun(context, request, plan).execute(),
    );

    context.stats.generations += 1;
    const sendImages = values.flag('send_images') !== false;
    const images = sendImages ? output.images.map((png) => png.toString('base64')) : [];
    context.stats.imagesReturned += images.length;
    if (plan.drop) context.stats.dropped += 1;
    if (mode === 'img2img' && !values.flag('include_init_images')) {
      values.set('init_images', null);
      values.set('mask', null);
    }
    const reply = { status: 200, body: { images, parameters: values.all(), info: output.info } };
    return plan.drop ? { ...reply, drop: plan.drop } : reply;
  } catch (error) {
    context.stats.failed += 1;
    throw error;
  }
}
