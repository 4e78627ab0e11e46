import { describe, expect, it } from 'vitest';

import { FifoLock } from '../../src/engine/fifo-lock.js';

describe('FifoLock', () => {
  it('serves waiters strictly in arrival order, one at a time', async () => {
    const lock = new FifoLock();
    const events: string[] = [];
    const worker = (name: string, delayMs: number) =>
      lock.run(async () => {
        events.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        events.push(`end ${name}`);
      });
    await Promise.all([worker('a', 15), worker('b', 1), worker('c', 5)]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(lock.isHeld).toBe(false);
  });

  it('releases once even if release is called twice, and after a failure', async () => {
    const lock = new FifoLock();
    const release = await lock.acquire();
    const second = lock.acquire();
    expect(lock.waiting).toBe(1);
    release();
    release();
    const releaseSecond = await second;
    expect(lock.isHeld).toBe(true);
    releaseSecond();
    await expect(lock.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(lock.isHeld).toBe(false);
  });
});
