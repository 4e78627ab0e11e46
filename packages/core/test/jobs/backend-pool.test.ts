import { startForgeSim, type ForgeSim } from '@forge-tool/forge-sim';
import { afterEach, describe, expect, it } from 'vitest';

import { BackendPool } from '../../src/jobs/backend-pool.js';
import { EngineEvents, type EngineEvent } from '../../src/jobs/engine-events.js';
import { closedPort } from '../forge/helpers.js';

const sims: ForgeSim[] = [];
const pools: BackendPool[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close(true)));
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
});

async function sim(port = 0): Promise<ForgeSim> {
  const started = await startForgeSim({ port, stepMs: 0, imageMs: 0, loadMs: 0 });
  sims.push(started);
  return started;
}

function pool(
  backends: ConstructorParameters<typeof BackendPool>[0]['backends'],
  events = new EngineEvents(),
  onAvailable?: () => void,
): BackendPool {
  const created = new BackendPool({
    backends,
    events,
    healthIntervalMs: 30,
    retryMinMs: 20,
    retryMaxMs: 100,
    probeTimeoutMs: 2_000,
    ...(onAvailable === undefined ? {} : { onAvailable }),
  });
  pools.push(created);
  return created;
}

function waitFor(events: EngineEvents, type: EngineEvent['type'], backend: string): Promise<void> {
  return new Promise((resolve) => {
    const stop = events.subscribe((event) => {
      if (event.type === type && 'backend' in event && event.backend === backend) {
        stop();
        resolve();
      }
    });
  });
}

describe('BackendPool', () => {
  it('probes every backend at start and reads the checkpoint it has selected', async () => {
    const [a, b] = [await sim(), await sim()];
    const events = new EngineEvents();
    const ups: string[] = [];
    events.on('backendUp', (event) => ups.push(event.backend));
    const backends = pool(
      [
        { name: 'a', url: a.url, weight: 1 },
        { name: 'b', url: b.url, tags: ['xl'], weight: 5 },
      ],
      events,
    );
    await backends.start();
    expect(ups.sort()).toEqual(['a', 'b']);
    expect(backends.freeBackends().map((view) => view.name)).toEqual(['b', 'a']);
    expect(backends.get('b')?.tags.has('xl')).toBe(true);
    expect(backends.get('a')?.defaultCheckpoint).toBe('v1-5-pruned-emaonly');
    expect(backends.capabilities()).toHaveLength(2);
    expect(backends.capabilitiesOf('a')?.samplers.length).toBeGreaterThan(0);
  });

  it('tracks busy backends, the checkpoint each ran and its speed', async () => {
    const a = await sim();
    let available = 0;
    const backends = pool([{ name: 'a', url: a.url }], new EngineEvents(), () => available++);
    await backends.start();
    const afterStart = available;
    backends.acquire('a', 'job_1');
    expect(backends.freeBackends()).toEqual([]);
    expect(() => backends.acquire('a', 'job_2')).toThrow(/not free/);
    backends.release('a', { checkpoint: 'sd_xl_base_1.0', units: 20, durationMs: 400 });
    backends.acquire('a', 'job_2');
    backends.release('a', { checkpoint: 'sd_xl_base_1.0', units: 10, durationMs: 100 });
    const view = backends.get('a');
    expect(view?.loadedCheckpoint).toBe('sd_xl_base_1.0');
    expect(view?.checkpointSwitches).toBe(1);
    expect(view?.jobsRun).toBe(2);
    // 20 ms per unit, then 10 ms weighted 0.3.
    expect(view?.msPerUnit).toBeCloseTo(17, 5);
    expect(available - afterStart).toBe(2);
  });

  it('takes a backend that stops answering out of rotation, and back in when it returns', async () => {
    const a = await sim();
    const port = a.port;
    const events = new EngineEvents();
    const backends = pool([{ name: 'a', url: a.url }], events);
    await backends.start();
    const down = waitFor(events, 'backendDown', 'a');
    await a.close();
    await down;
    expect(backends.get('a')?.status).toBe('down');
    expect(backends.get('a')?.lastError?.code).toBe('FT_ERR_FORGE_UNREACHABLE');
    expect(backends.freeBackends()).toEqual([]);
    const up = waitFor(events, 'backendUp', 'a');
    await sim(port);
    await up;
    expect(backends.freeBackends().map((view) => view.name)).toEqual(['a']);
  });

  it('starts with an unreachable backend down and keeps checking it', async () => {
    const events = new EngineEvents();
    const downs: number[] = [];
    events.on('backendDown', (event) => downs.push(event.retryInMs));
    const backends = pool(
      [{ name: 'gone', url: `http://127.0.0.1:${await closedPort()}` }],
      events,
    );
    await backends.start();
    expect(backends.get('gone')?.status).toBe('down');
    expect(backends.upCount()).toBe(0);
    expect(downs).toEqual([20]);
  });

  it('markDown emits backendDown once, and rejects bad configuration', async () => {
    const a = await sim();
    const events = new EngineEvents();
    const downs: string[] = [];
    events.on('backendDown', (event) => downs.push(event.error.code));
    const backends = pool([{ name: 'a', url: a.url }], events);
    await backends.start();
    const error = { code: 'FT_ERR_FORGE_CONNECTION_LOST', message: 'reset' };
    backends.markDown('a', error);
    backends.markDown('a', error);
    expect(downs).toEqual(['FT_ERR_FORGE_CONNECTION_LOST']);
    expect(() => pool([])).toThrow(/at least one/);
    expect(() =>
      pool([
        { name: 'x', url: a.url },
        { name: 'x', url: a.url },
      ]),
    ).toThrow(/twice/);
  });
});
