import { describe, expect, it } from 'vitest';

import { EngineEvents, type EngineEvent } from '../../src/jobs/engine-events.js';
import type { JobRecord } from '../../src/jobs/job.js';
import type { Logger } from '../../src/logger.js';

describe('EngineEvents', () => {
  it('numbers events from 1 and delivers them to every subscriber in order', () => {
    const events = new EngineEvents({ now: () => 42 });
    const seen: EngineEvent[] = [];
    const stop = events.subscribe((event) => seen.push(event));
    events.emit('backendUp', { backend: 'gpu-1' });
    events.emit('backendUp', { backend: 'gpu-2' });
    stop();
    events.emit('backendUp', { backend: 'gpu-3' });
    expect(seen.map((event) => [event.type, event.sequence, event.at])).toEqual([
      ['backendUp', 1, 42],
      ['backendUp', 2, 42],
    ]);
    expect(events.lastSequence).toBe(3);
  });

  it('filters by type with on()', () => {
    const events = new EngineEvents();
    const downs: string[] = [];
    events.on('backendDown', (event) => downs.push(`${event.backend}:${event.error.code}`));
    events.emit('backendUp', { backend: 'gpu-1' });
    const error = { code: 'FT_ERR_FORGE_UNREACHABLE', message: 'refused' };
    events.emit('backendDown', { backend: 'gpu-1', error, retryInMs: 500 });
    expect(downs).toEqual(['gpu-1:FT_ERR_FORGE_UNREACHABLE']);
  });

  it('keeps delivering when a listener throws, and logs the failure', () => {
    const logged: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (_context, message) => logged.push(message),
      child: () => logger,
    };
    const events = new EngineEvents({ logger });
    const seen: number[] = [];
    events.subscribe(() => {
      throw new Error('listener bug');
    });
    events.subscribe((event) => seen.push(event.sequence));
    events.emit('backendUp', { backend: 'gpu-1' });
    expect(seen).toEqual([1]);
    expect(logged).toHaveLength(1);
  });

  it('replays missed events from its buffer and says when some were dropped', () => {
    const events = new EngineEvents({ replayBufferSize: 3 });
    for (let i = 1; i <= 5; i++) events.emit('backendUp', { backend: `gpu-${i}` });
    const recent = events.since(3);
    expect(recent.complete).toBe(true);
    expect(recent.events.map((event) => event.sequence)).toEqual([4, 5]);
    const old = events.since(0);
    expect(old.complete).toBe(false);
    expect(old.events.map((event) => event.sequence)).toEqual([3, 4, 5]);
    expect(events.since(5)).toEqual({ events: [], complete: true });
  });

  it('delivers previews live but keeps none in the replay buffer', () => {
    const events = new EngineEvents();
    const job = { id: 'job_1' } as unknown as JobRecord;
    const progress = {
      percent: 50,
      step: 5,
      totalSteps: 10,
      etaMs: 100,
      hasPreview: true,
      updatedAt: 1,
    };
    let live: Buffer | null = null;
    events.on('jobProgress', (event) => (live = event.preview));
    events.emit('jobProgress', { job, progress, preview: Buffer.from('png') });
    expect(live).toEqual(Buffer.from('png'));
    const [replayed] = events.since(0).events;
    expect(replayed?.type === 'jobProgress' && replayed.preview).toBeNull();
    expect(replayed?.type === 'jobProgress' && replayed.progress.hasPreview).toBe(true);
  });

  it('rejects a negative buffer size', () => {
    expect(() => new EngineEvents({ replayBufferSize: -1 })).toThrow(/replayBufferSize/);
  });
});
