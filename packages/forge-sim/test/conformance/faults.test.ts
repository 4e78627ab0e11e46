/**
 * Fault injection and the `/_sim/*` admin routes.
 */
import { request as httpRequest } from 'node:http';

import { afterEach, describe, expect, it } from 'vitest';

import type { ForgeSim } from '../../src/index.js';
import {
  get,
  post,
  request,
  startFastSim,
  waitForProgress,
  type ProgressBody,
} from '../helpers/sim-client.js';

let sim: ForgeSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const SMALL = { steps: 4, width: 64, height: 64 } as const;

/** Sends a request with node:http and reports how the connection ended. */
function rawPost(
  target: ForgeSim,
  path: string,
  body: unknown,
): Promise<{ outcome: 'complete' | 'reset'; status: number | undefined; received: number }> {
  return new Promise((resolve) => {
    let status: number | undefined;
    let received = 0;
    const req = httpRequest(
      `${target.url}${path}`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        status = res.statusCode;
        res.on('data', (chunk: Buffer) => (received += chunk.length));
        res.on('end', () => resolve({ outcome: 'complete', status, received }));
        res.on('error', () => resolve({ outcome: 'reset', status, received }));
      },
    );
    req.on('error', () => resolve({ outcome: 'reset', status, received }));
    req.end(JSON.stringify(body));
  });
}

describe('fault injection', () => {
  it('fails generations with a generic 500 in the Forge exception shape', async () => {
    sim = await startFastSim({ faults: { failureRate: 1 } });
    const { status, body } = await post<Record<string, string>>(sim, '/sdapi/v1/txt2img', SMALL);
    expect(status).toBe(500);
    expect(Object.keys(body)).toEqual(['error', 'detail', 'body', 'message']);
    expect(body['error']).toBe('RuntimeError');
    expect(sim.stats()).toMatchObject({ injectedFailures: 1, failed: 1, generations: 0 });
    // The failed task stays "current", as in Forge.
    expect((sim.state()['tasks'] as { current: string | null }).current).toMatch(
      /^task\(txt2img-[A-Z0-9]{7}\)$/,
    );
  });

  it('fails generations with CUDA out of memory', async () => {
    sim = await startFastSim({ faults: { oomRate: 1 } });
    const { status, body } = await post<Record<string, string>>(sim, '/sdapi/v1/txt2img', SMALL);
    expect(status).toBe(500);
    expect(body['error']).toBe('OutOfMemoryError');
    expect(body['message']).toContain('CUDA out of memory. Tried to allocate');
    expect((await get<ProgressBody>(sim, '/sdapi/v1/progress')).body.state.job_count).toBe(0);
  });

  it('drops connections mid-response', async () => {
    sim = await startFastSim({ faults: { dropRate: 1 } });
    const outcomes = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(() => rawPost(sim!, '/sdapi/v1/txt2img', SMALL)),
    );
    expect(outcomes.every((outcome) => outcome.outcome === 'reset')).toBe(true);
    expect(sim.stats().dropped).toBe(6);
    // The generation itself ran; only the answer was lost.
    expect(sim.stats().generations).toBe(6);
  });

  it('hangs generations for hangMs while holding the lock', async () => {
    sim = await startFastSim({ faults: { hangMs: 200 } });
    const started = Date.now();
    const job = post(sim, '/sdapi/v1/txt2img', SMALL);
    const hanging = await waitForProgress(sim, (progress) => progress.state.job_count !== 0);
    expect(hanging.state.sampling_step).toBe(0);
    expect((await job).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(sim.stats().hung).toBe(1);
  });

  it('holds every Forge request until slowStartMs after start, but not /_sim', async () => {
    const started = Date.now();
    sim = await startFastSim({ faults: { slowStartMs: 250 } });
    expect((await get(sim, '/_sim/faults')).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(250);
    expect((await get(sim, '/sdapi/v1/progress')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('closes promptly even while a generation hangs', async () => {
    sim = await startFastSim({ faults: { hangMs: 60_000 } });
    const job = rawPost(sim, '/sdapi/v1/txt2img', SMALL);
    await waitForProgress(sim, (progress) => progress.state.job_count !== 0);
    const closing = Date.now();
    await sim.close();
    expect(Date.now() - closing).toBeLessThan(5_000);
    expect((await job).outcome).toBe('reset');
  });
});

describe('admin routes', () => {
  it('reads and changes faults, validating them', async () => {
    sim = await startFastSim();
    expect((await get(sim, '/_sim/faults')).body).toEqual({
      failureRate: 0,
      oomRate: 0,
      dropRate: 0,
      hangMs: 0,
      slowStartMs: 0,
    });
    const updated = await request(sim, 'PUT', '/_sim/faults', { failureRate: 1 });
    expect(updated.body).toMatchObject({ failureRate: 1 });
    expect((await post(sim, '/sdapi/v1/txt2img', SMALL)).status).toBe(500);

    const bad = await request(sim, 'PUT', '/_sim/faults', { failureRate: 2 });
    expect([bad.status, bad.body]).toEqual([
      400,
      { detail: 'faults.failureRate must be a number from 0 to 1, got 2' },
    ]);
    const unknown = await request(sim, 'PUT', '/_sim/faults', { explode: true });
    expect(unknown.status).toBe(400);
    const notJson = await request(sim, 'PUT', '/_sim/faults', '{oops');
    expect(notJson.status).toBe(400);

    sim.setFaults({ failureRate: 0 });
    expect((await post(sim, '/sdapi/v1/txt2img', SMALL)).status).toBe(200);
    expect(() => sim!.setFaults({ hangMs: -1 })).toThrow(/hangMs/);
  });

  it('reports state and resets the process', async () => {
    sim = await startFastSim();
    await post(sim, '/sdapi/v1/options', { CLIP_stop_at_last_layers: 2 });
    await post(sim, '/sdapi/v1/txt2img', SMALL);
    const state = (await get<Record<string, unknown>>(sim, '/_sim/state')).body;
    expect(state).toMatchObject({
      mode: 'webui',
      loadedCheckpoint: 'v1-5-pruned-emaonly.safetensors [6ce0161689]',
    });
    expect(state['stats']).toMatchObject({ generations: 1, modelLoads: 1 });

    const reset = await post<Record<string, unknown>>(sim, '/_sim/reset');
    expect(reset.status).toBe(200);
    expect(reset.body['loadedCheckpoint']).toBeNull();
    expect(
      (await get<Record<string, unknown>>(sim, '/sdapi/v1/options')).body[
        'CLIP_stop_at_last_layers'
      ],
    ).toBe(1);
    expect(sim.stats().generations).toBe(0);
  });

  it('refuses to reset while a generation runs', async () => {
    sim = await startFastSim({ stepMs: 20 });
    const job = post(sim, '/sdapi/v1/txt2img', { ...SMALL, steps: 20 });
    await waitForProgress(sim, (progress) => progress.state.job_count > 0);
    const refused = await post(sim, '/_sim/reset');
    expect(refused.status).toBe(409);
    await post(sim, '/sdapi/v1/interrupt');
    await job;
  });
});
