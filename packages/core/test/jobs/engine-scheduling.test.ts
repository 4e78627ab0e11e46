import { afterEach, describe, expect, it } from 'vitest';

import type { EngineEvent } from '../../src/jobs/engine-events.js';
import { cleanUp, newRig, startEngine, startSims, waitUntilFinished } from './engine-helpers.js';

const rig = newRig();
afterEach(() => cleanUp(rig));

const CHECKPOINTS = [
  'v1-5-pruned-emaonly.safetensors [6ce0161689]',
  'sd_xl_base_1.0.safetensors [31e35c80fc]',
  'anime/counterfeitV30_v30.safetensors [bcaf256a67]',
] as const;

/** A small deterministic random source (mulberry32), so the test is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Submission {
  owner: string;
  checkpoint: string;
}

/**
 * One owner sends a batch of 100 first; four others then send 25 each, interleaved. Every owner
 * has a home checkpoint and uses another one for one job in five.
 */
function submissions(): Submission[] {
  const random = seededRandom(7);
  const home: Record<string, number> = { batch: 0, ann: 1, bob: 2, cy: 0, dee: 1 };
  const pick = (owner: string, index: number): string =>
    CHECKPOINTS[(home[owner]! + (index % 5 === 4 ? 1 + Math.floor(random() * 2) : 0)) % 3]!;
  const list: Submission[] = Array.from({ length: 100 }, (_, index) => ({
    owner: 'batch',
    checkpoint: pick('batch', index),
  }));
  const others = ['ann', 'bob', 'cy', 'dee'].flatMap((owner) =>
    Array.from({ length: 25 }, (_, index) => ({ owner, checkpoint: pick(owner, index) })),
  );
  for (let i = others.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [others[i], others[j]] = [others[j]!, others[i]!];
  }
  return [...list, ...others];
}

/** Checkpoint loads if the jobs ran first-come first-served, round-robin over the backends. */
function fifoLoads(order: readonly Submission[], backends: number): number {
  const loaded: (string | null)[] = Array.from({ length: backends }, () => null);
  let loads = 0;
  order.forEach((submission, index) => {
    const backend = index % backends;
    if (loaded[backend] !== submission.checkpoint) loads += 1;
    loaded[backend] = submission.checkpoint;
  });
  return loads;
}

/** Longest run of starts by one owner while some other owner had a job waiting. */
function longestContestedRun(events: readonly EngineEvent[]): number {
  const waiting = new Map<string, number>();
  let longest = 0;
  let run = { owner: '', length: 0 };
  for (const event of events) {
    if (event.type === 'jobQueued' || event.type === 'jobRequeued') {
      const owner = event.job.owner.id;
      waiting.set(owner, (waiting.get(owner) ?? 0) + 1);
    }
    if (event.type !== 'jobStarted') continue;
    const owner = event.job.owner.id;
    waiting.set(owner, (waiting.get(owner) ?? 1) - 1);
    const contested = [...waiting].some(([other, count]) => other !== owner && count > 0);
    if (!contested) {
      run = { owner: '', length: 0 };
      continue;
    }
    run = run.owner === owner ? { owner, length: run.length + 1 } : { owner, length: 1 };
    longest = Math.max(longest, run.length);
  }
  return longest;
}

describe('Engine: 3 backends, 200 jobs from 5 owners', () => {
  it('completes every job exactly once, shares fairly, and loads checkpoints less than FIFO', async () => {
    const sims = await startSims(rig, 3, { stepMs: 1, loadMs: 10 });
    const { engine, store } = await startEngine(rig, sims, { tuning: { maxPassOvers: 2 } });
    const events: EngineEvent[] = [];
    engine.subscribe((event) => events.push(event));

    const order = submissions();
    const outcomes = await Promise.all(
      order.map((submission) =>
        engine.submit({
          prompt: `a picture for ${submission.owner}`,
          checkpoint: submission.checkpoint,
          width: 64,
          height: 64,
          steps: 3,
          owner: { id: submission.owner },
        }),
      ),
    );
    const ids = outcomes.map((outcome) => outcome.job.id);
    expect(new Set(ids).size).toBe(200);

    const jobs = await waitUntilFinished(store, ids, 60_000);
    expect(jobs.every((job) => job.status === 'completed' && job.attempts === 1)).toBe(true);
    const completions = events.filter((event) => event.type === 'jobCompleted');
    expect(completions).toHaveLength(200);
    expect(new Set(completions.map((event) => event.job.id)).size).toBe(200);
    const generations = sims.reduce((sum, sim) => sum + sim.stats().generations, 0);
    expect(generations).toBe(200);

    // Fair share: the batch of 100 does not hold the others back.
    expect(longestContestedRun(events)).toBeLessThanOrEqual(3);
    const starts = events.filter((event) => event.type === 'jobStarted');
    for (const owner of ['ann', 'bob', 'cy', 'dee']) {
      const first = starts.findIndex((event) => event.job.owner.id === owner);
      expect(first, `first start of ${owner}`).toBeLessThan(20);
    }

    // Affinity: fewer checkpoint loads than first-come first-served would cause.
    const engineLoads = sims.reduce((sum, sim) => sum + sim.stats().modelLoads, 0);
    const fifo = fifoLoads(order, 3);
    expect(engineLoads, `engine ${engineLoads} loads, FIFO order ${fifo}`).toBeLessThan(fifo);
    const switches = (await engine.backends()).reduce((sum, b) => sum + b.checkpointSwitches, 0);
    expect(switches).toBeLessThanOrEqual(engineLoads);
  });
});
