import { describe, expect, it } from 'vitest';

import { FairQueue, type PickTarget, type QueueEntry } from '../../src/jobs/fair-queue.js';

let nextSequence = 1;

function job(owner: string, overrides: Partial<QueueEntry> = {}): QueueEntry {
  const sequence = overrides.sequence ?? nextSequence++;
  return {
    id: `job_${owner}_${sequence}`,
    owner,
    priority: 0,
    sequence,
    checkpoint: null,
    tags: [],
    avoidBackend: null,
    ...overrides,
  };
}

function backend(overrides: Partial<PickTarget> = {}): PickTarget {
  return {
    name: 'gpu-1',
    tags: new Set(),
    loadedCheckpoint: null,
    defaultCheckpoint: null,
    ...overrides,
  };
}

/** Picks until the queue is empty, settling each job at once; returns the owners in order. */
function drain(queue: FairQueue, target: PickTarget = backend()): QueueEntry[] {
  const order: QueueEntry[] = [];
  for (let next = queue.pick(target); next !== undefined; next = queue.pick(target)) {
    order.push(next);
    queue.settle(next.owner);
  }
  return order;
}

describe('FairQueue: fair share', () => {
  it('interleaves owners round-robin, first-in first-out within each owner', () => {
    const queue = new FairQueue();
    for (let i = 0; i < 6; i++) queue.add(job('a'));
    for (let i = 0; i < 2; i++) queue.add(job('b'));
    queue.add(job('c'));
    const order = drain(queue);
    expect(order.map((entry) => entry.owner).join('')).toBe('abcabaaaa');
    const aSequences = order.filter((entry) => entry.owner === 'a').map((e) => e.sequence);
    expect(aSequences).toEqual([...aSequences].sort((x, y) => x - y));
  });

  it('lets a newcomer in at the next turn, not behind a large batch', () => {
    const queue = new FairQueue();
    for (let i = 0; i < 100; i++) queue.add(job('batch'));
    const first = queue.pick(backend());
    expect(first?.owner).toBe('batch');
    queue.add(job('newcomer'));
    expect(queue.pick(backend())?.owner).toBe('newcomer');
  });

  it('serves a higher priority first, and shares fairly within a priority', () => {
    const queue = new FairQueue();
    queue.add(job('a'));
    queue.add(job('a', { priority: 5 }));
    queue.add(job('b', { priority: 5 }));
    queue.add(job('b', { priority: -3 }));
    const order = drain(queue).map((entry) => `${entry.owner}${entry.priority}`);
    expect(order).toEqual(['a5', 'b5', 'a0', 'b-3']);
  });

  it('puts a requeued job back at its place by sequence', () => {
    const queue = new FairQueue();
    const early = job('a');
    queue.add(job('a'));
    queue.add(job('a'));
    queue.add(early);
    expect(queue.pick(backend())?.id).toBe(early.id);
  });

  it('ignores a second add of the same id and removes queued jobs by id', () => {
    const queue = new FairQueue();
    const entry = job('a');
    expect(queue.add(entry)).toBe(true);
    expect(queue.add(entry)).toBe(false);
    expect(queue.size).toBe(1);
    expect(queue.remove(entry.id)).toBe(entry);
    expect(queue.remove(entry.id)).toBeUndefined();
    expect(queue.size).toBe(0);
    expect(queue.pick(backend())).toBeUndefined();
  });
});

describe('FairQueue: limits and backend requirements', () => {
  it('holds back an owner at its running limit until one of its jobs settles', () => {
    const queue = new FairQueue({ maxRunningPerOwner: 1 });
    queue.add(job('a'));
    queue.add(job('a'));
    const first = queue.pick(backend());
    expect(first?.owner).toBe('a');
    expect(queue.runningFor('a')).toBe(1);
    expect(queue.pick(backend({ name: 'gpu-2' }))).toBeUndefined();
    queue.settle('a');
    expect(queue.pick(backend({ name: 'gpu-2' }))?.owner).toBe('a');
  });

  it('gives a tagged job only to a backend with every tag, without blocking other jobs', () => {
    const queue = new FairQueue();
    const tagged = job('a', { tags: ['flux', 'big'] });
    queue.add(tagged);
    queue.add(job('a'));
    expect(queue.pick(backend({ tags: new Set(['flux']) }))?.id).not.toBe(tagged.id);
    expect(queue.pick(backend({ tags: new Set(['big', 'flux']) }))?.id).toBe(tagged.id);
  });

  it('keeps a job away from the backend it should avoid unless told otherwise', () => {
    const queue = new FairQueue();
    queue.add(job('a', { avoidBackend: 'gpu-1' }));
    expect(queue.pick(backend())).toBeUndefined();
    expect(queue.pick(backend({ honourAvoid: false }))?.owner).toBe('a');
  });

  it('honours canRun', () => {
    const queue = new FairQueue();
    queue.add(job('a', { checkpoint: 'flux' }));
    expect(queue.pick(backend({ canRun: (entry) => entry.checkpoint !== 'flux' }))).toBe(undefined);
    expect(queue.pick(backend({ canRun: () => true }))?.checkpoint).toBe('flux');
  });

  it('rejects invalid options with a message naming them', () => {
    expect(() => new FairQueue({ maxPassOvers: -1 })).toThrow(/options.maxPassOvers must be/);
    expect(() => new FairQueue({ maxRunningPerOwner: 1.5 })).toThrow(/maxRunningPerOwner/);
  });
});

describe('FairQueue: checkpoint affinity', () => {
  it('prefers the job whose checkpoint the backend holds', () => {
    const queue = new FairQueue();
    queue.add(job('a', { checkpoint: 'xl' }));
    queue.add(job('b', { checkpoint: 'sd15' }));
    expect(queue.pick(backend({ loadedCheckpoint: 'sd15' }))?.owner).toBe('b');
  });

  it('treats a job without a checkpoint as wanting the backend default', () => {
    const queue = new FairQueue();
    queue.add(job('a', { checkpoint: 'xl' }));
    queue.add(job('b'));
    const target = backend({ loadedCheckpoint: 'sd15', defaultCheckpoint: 'sd15' });
    expect(queue.pick(target)?.owner).toBe('b');
  });

  it('leaves a job for the free backend that already holds its checkpoint', () => {
    const queue = new FairQueue();
    queue.add(job('a', { checkpoint: 'xl' }));
    queue.add(job('b', { checkpoint: 'flux' }));
    const target = backend({ loadedCheckpoint: 'sd15', loadedElsewhere: new Set(['xl']) });
    expect(queue.pick(target)?.owner).toBe('b');
  });

  it('never passes an owner over more than maxPassOvers times in a row', () => {
    const queue = new FairQueue({ maxPassOvers: 2 });
    for (let i = 0; i < 10; i++) queue.add(job('a', { checkpoint: 'sd15' }));
    queue.add(job('b', { checkpoint: 'xl' }));
    const order = drain(queue, backend({ loadedCheckpoint: 'sd15' })).map((e) => e.owner);
    // From the second pick on, b comes first in fairness order: passed over twice, then served.
    expect(order.slice(0, 4)).toEqual(['a', 'a', 'a', 'b']);
  });

  it('with maxPassOvers 0 is plain fair share', () => {
    const queue = new FairQueue({ maxPassOvers: 0 });
    queue.add(job('a', { checkpoint: 'xl' }));
    queue.add(job('b', { checkpoint: 'sd15' }));
    expect(queue.pick(backend({ loadedCheckpoint: 'sd15' }))?.owner).toBe('a');
  });
});

describe('FairQueue: position and snapshot', () => {
  it('predicts the fair-share order', () => {
    const queue = new FairQueue();
    const entries = [
      ...Array.from({ length: 5 }, () => job('a')),
      ...Array.from({ length: 2 }, () => job('b')),
      job('c', { priority: 1 }),
    ];
    for (const entry of entries) queue.add(entry);
    const snapshot = queue.snapshot(100);
    expect(snapshot.map((entry) => entry.owner).join('')).toBe('cababaaa');
    snapshot.forEach((entry, index) => expect(queue.position(entry.id)).toBe(index));
    const picked = drain(queue).map((entry) => entry.id);
    expect(picked).toEqual(snapshot.map((entry) => entry.id));
  });

  it('accounts for who was served last', () => {
    const queue = new FairQueue();
    queue.add(job('a'));
    queue.add(job('a'));
    queue.add(job('b'));
    queue.pick(backend());
    const [next] = queue.snapshot(1);
    expect(next?.owner).toBe('b');
    expect(queue.position(next?.id ?? '')).toBe(0);
    expect(queue.position('job_missing')).toBeUndefined();
  });

  it('stays quick with 100,000 queued jobs across many owners', () => {
    const queue = new FairQueue();
    for (let i = 0; i < 100_000; i++) queue.add(job(`owner-${i % 200}`));
    const last = job('owner-0');
    queue.add(last);
    expect(queue.position(last.id)).toBe(100_000);
    expect(queue.snapshot(400).length).toBe(400);
    for (let i = 0; i < 1_000; i++) {
      const picked = queue.pick(backend());
      if (picked !== undefined) queue.settle(picked.owner);
    }
    expect(queue.size).toBe(99_001);
    expect(queue.position(last.id)).toBe(99_001 - 1);
  });
});
