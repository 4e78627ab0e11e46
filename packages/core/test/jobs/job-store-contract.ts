// The behaviour every JobStore implementation must share. A test file calls
// `describeJobStoreContract` with a factory; the same tests then run against that store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForgeToolError, type ErrorCode } from '../../src/errors.js';
import { parseGenerationRequest } from '../../src/jobs/generation-request.js';
import { newJobId } from '../../src/jobs/job-id.js';
import type { JobStore, NewJob } from '../../src/jobs/job-store.js';
import type { JobOwner, JobProgress, JobResult } from '../../src/jobs/job.js';

/** Makes a fresh, empty store whose timestamps come from `now`. */
export type JobStoreFactory = (now: () => number) => JobStore | Promise<JobStore>;

/** A new job for `owner` (default: an API user), with a realistic request. */
export function sampleJob(fields: Partial<NewJob> & { prompt?: string } = {}): NewJob {
  const { prompt = 'a lighthouse at dusk', ...rest } = fields;
  const request = parseGenerationRequest({ prompt, steps: 12, metadata: { channel: 'c-1' } });
  return {
    id: newJobId(),
    kind: 'txt2img',
    priority: 0,
    owner: { id: 'user-1', source: 'api' },
    request,
    resolved: { ...request, prompt: `${prompt}, resolved`, seed: 42, wildcard_trace: null },
    idempotencyKey: null,
    maxAttempts: 3,
    ...rest,
  };
}

/** A result with `count` images. */
export function sampleResult(count = 2): JobResult {
  const images = Array.from({ length: count }, (_, index) => ({
    index,
    key: `2026-12-03/job-${index}.png`,
    thumbnailKey: null,
    seed: 42 + index,
    infotext: 'a lighthouse\nSteps: 12',
    width: 1024,
    height: 1024,
    bytes: 1234,
    sha256: 'ab'.repeat(32),
    removedAt: null,
  }));
  return { images, seed: 42, info: { sampler_name: 'Euler a' } };
}

const PROGRESS: JobProgress = {
  percent: 40,
  step: 5,
  totalSteps: 12,
  etaMs: 1_500,
  hasPreview: false,
  updatedAt: 1_000,
};

/** Awaits `promise`, expects a ForgeToolError with `code`, and returns its message. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ForgeToolError);
  expect((error as ForgeToolError).code, (error as Error).message).toBe(code);
  return (error as ForgeToolError).message;
}

/** Registers the shared JobStore tests for the store `factory` makes. */
export function describeJobStoreContract(name: string, factory: JobStoreFactory): void {
  describe(`${name}: JobStore contract`, () => {
    let store: JobStore;
    let clock: number;

    beforeEach(async () => {
      clock = 1_000_000;
      store = await factory(() => clock);
    });

    afterEach(async () => {
      await store.close();
    });

    async function runningJob(fields: Partial<NewJob> = {}) {
      const { job } = await store.insert(sampleJob(fields));
      clock += 10;
      return store.markRunning(job.id, 'gpu-1');
    }

    describe('insert and read', () => {
      it('stores a queued job with the store-assigned fields', async () => {
        const job = sampleJob({ priority: 3, idempotencyKey: 'k1' });
        const { job: stored, created } = await store.insert(job);
        expect(created).toBe(true);
        expect(stored).toEqual({
          ...job,
          status: 'queued',
          attempts: 0,
          backend: null,
          progress: null,
          result: null,
          error: null,
          sequence: stored.sequence,
          createdAt: 1_000_000,
          startedAt: null,
          finishedAt: null,
          updatedAt: 1_000_000,
        });
        expect(await store.get(job.id)).toEqual(stored);
      });

      it('keeps the request and the resolved request exactly', async () => {
        const job = sampleJob({ prompt: 'ünïcode ✓ "quotes"' });
        await store.insert(job);
        const stored = await store.get(job.id);
        expect(stored?.request).toEqual(job.request);
        expect(stored?.resolved).toEqual(job.resolved);
        expect(stored?.request.metadata).toEqual({ channel: 'c-1' });
      });

      it('gives increasing sequence numbers', async () => {
        const first = await store.insert(sampleJob());
        const second = await store.insert(sampleJob());
        expect(second.job.sequence).toBeGreaterThan(first.job.sequence);
      });

      it('answers undefined for an unknown id', async () => {
        expect(await store.get('job_01ARYZ6S41TSV4RRFFQ69G5FAV')).toBeUndefined();
      });

      it('refuses a second job with the same id and changes nothing', async () => {
        const job = sampleJob();
        await store.insert(job);
        await rejectsWith(store.insert({ ...job, priority: 9 }), 'FT_ERR_STORE_FAILURE');
        expect((await store.get(job.id))?.priority).toBe(0);
        expect((await store.countByStatus()).queued).toBe(1);
      });

      it('does not share objects with the caller', async () => {
        const job = sampleJob();
        const { job: stored } = await store.insert(job);
        (stored.request.styles as string[]).push('changed');
        expect((await store.get(job.id))?.request.styles).toEqual([]);
      });
    });

    describe('idempotency', () => {
      it('returns the earlier job for a repeated key of the same owner', async () => {
        const first = await store.insert(sampleJob({ idempotencyKey: 'same' }));
        const again = await store.insert(sampleJob({ idempotencyKey: 'same', priority: 5 }));
        expect(again.created).toBe(false);
        expect(again.job).toEqual(first.job);
        expect((await store.countByStatus()).queued).toBe(1);
      });

      it('keeps keys apart per owner id and per source', async () => {
        const owners: JobOwner[] = [
          { id: 'user-1', source: 'api' },
          { id: 'user-2', source: 'api' },
          { id: 'user-1', source: 'discord' },
        ];
        for (const owner of owners) {
          const outcome = await store.insert(sampleJob({ owner, idempotencyKey: 'shared' }));
          expect(outcome.created).toBe(true);
        }
        const withoutKey = await store.insert(sampleJob());
        const withoutKeyAgain = await store.insert(sampleJob());
        expect([withoutKey.created, withoutKeyAgain.created]).toEqual([true, true]);
      });

      it('finds a job by owner and key, and nothing for another owner or key', async () => {
        const owner: JobOwner = { id: 'user-9', source: 'slack' };
        const { job } = await store.insert(sampleJob({ owner, idempotencyKey: 'find-me' }));
        expect(await store.findByIdempotencyKey(owner, 'find-me')).toEqual(job);
        expect(await store.findByIdempotencyKey(owner, 'other')).toBeUndefined();
        expect(
          await store.findByIdempotencyKey({ id: 'user-9', source: 'api' }, 'find-me'),
        ).toBeUndefined();
      });

      it('returns the earlier job even after it finished', async () => {
        const running = await runningJob({ idempotencyKey: 'done' });
        await store.complete(running.id, 1, sampleResult());
        const again = await store.insert(sampleJob({ idempotencyKey: 'done' }));
        expect(again.created).toBe(false);
        expect(again.job.status).toBe('completed');
      });
    });

    describe('transitions', () => {
      it('starts a queued job: running, attempt 1, on the backend', async () => {
        const { job } = await store.insert(sampleJob());
        clock += 50;
        const running = await store.markRunning(job.id, 'gpu-1');
        expect(running).toMatchObject({
          status: 'running',
          attempts: 1,
          backend: 'gpu-1',
          startedAt: 1_000_050,
          updatedAt: 1_000_050,
        });
      });

      it('refuses to start a job that is not queued, naming both states', async () => {
        const running = await runningJob();
        const message = await rejectsWith(
          store.markRunning(running.id, 'gpu-2'),
          'FT_ERR_STORE_CONFLICT',
        );
        expect(message).toBe(
          `Cannot start job ${running.id}: expected it queued, but it is running at attempt 1`,
        );
        await rejectsWith(
          store.markRunning('job_01ARYZ6S41TSV4RRFFQ69G5FAV', 'g'),
          'FT_ERR_JOB_NOT_FOUND',
        );
      });

      it('completes the running attempt exactly once', async () => {
        const running = await runningJob();
        clock += 100;
        const completed = await store.complete(running.id, 1, sampleResult());
        expect(completed).toMatchObject({
          status: 'completed',
          result: sampleResult(),
          error: null,
          finishedAt: clock,
        });
        const message = await rejectsWith(
          store.complete(running.id, 1, sampleResult(1)),
          'FT_ERR_STORE_CONFLICT',
        );
        expect(message).toContain(
          'expected it running attempt 1, but it is completed at attempt 1',
        );
        expect((await store.get(running.id))?.result?.images).toHaveLength(2);
      });

      it('refuses a result from an attempt that was given up', async () => {
        const running = await runningJob();
        await store.requeue(running.id, 1, { code: 'FT_ERR_FORGE_UNREACHABLE', message: 'gone' });
        const second = await store.markRunning(running.id, 'gpu-2');
        expect(second.attempts).toBe(2);
        const message = await rejectsWith(
          store.complete(running.id, 1, sampleResult()),
          'FT_ERR_STORE_CONFLICT',
        );
        expect(message).toContain('expected it running attempt 1, but it is running at attempt 2');
        expect((await store.complete(running.id, 2, sampleResult())).status).toBe('completed');
      });

      it('fails the running attempt with its error', async () => {
        const running = await runningJob();
        const error = { code: 'FT_ERR_FORGE_VALIDATION', message: 'steps: must be an int' };
        const failed = await store.fail(running.id, 1, error);
        expect(failed).toMatchObject({ status: 'failed', error, finishedAt: clock });
        await rejectsWith(store.fail(running.id, 1, error), 'FT_ERR_STORE_CONFLICT');
      });

      it('requeues the running attempt, keeping its place and its reason', async () => {
        const first = await runningJob();
        const second = await store.insert(sampleJob());
        await store.updateProgress(first.id, 1, PROGRESS);
        const error = { code: 'FT_ERR_FORGE_CONNECTION_LOST', message: 'socket closed' };
        const requeued = await store.requeue(first.id, 1, error);
        expect(requeued).toMatchObject({
          status: 'queued',
          attempts: 1,
          error,
          progress: null,
          backend: 'gpu-1',
        });
        const queued = await store.listQueued();
        expect(queued.map((job) => job.id)).toEqual([first.id, second.job.id]);
      });

      it('records progress of the running attempt only', async () => {
        const running = await runningJob();
        await store.updateProgress(running.id, 1, PROGRESS);
        expect((await store.get(running.id))?.progress).toEqual(PROGRESS);
        await store.updateProgress(running.id, 2, { ...PROGRESS, percent: 99 });
        await store.updateProgress('job_01ARYZ6S41TSV4RRFFQ69G5FAV', 1, PROGRESS);
        await store.complete(running.id, 1, sampleResult());
        await store.updateProgress(running.id, 1, { ...PROGRESS, percent: 77 });
        expect((await store.get(running.id))?.progress?.percent).toBe(40);
      });
    });

    describe('cancel', () => {
      it('cancels a queued or a running job with the reason', async () => {
        const reason = { code: 'FT_ERR_JOB_NOT_CANCELLABLE', message: 'cancelled by user' };
        const { job } = await store.insert(sampleJob());
        expect(await store.cancel(job.id, reason)).toMatchObject({
          status: 'cancelled',
          error: reason,
          finishedAt: clock,
        });
        const running = await runningJob();
        expect((await store.cancel(running.id, reason)).status).toBe('cancelled');
        await rejectsWith(store.complete(running.id, 1, sampleResult()), 'FT_ERR_STORE_CONFLICT');
      });

      it('refuses finished and unknown jobs', async () => {
        const running = await runningJob();
        await store.complete(running.id, 1, sampleResult());
        const reason = { code: 'FT_ERR_QUEUE_CLOSED', message: 'x' };
        const message = await rejectsWith(
          store.cancel(running.id, reason),
          'FT_ERR_JOB_NOT_CANCELLABLE',
        );
        expect(message).toBe(`Job ${running.id} cannot be cancelled: it is already completed`);
        await rejectsWith(
          store.cancel('job_01ARYZ6S41TSV4RRFFQ69G5FAV', reason),
          'FT_ERR_JOB_NOT_FOUND',
        );
      });
    });

    describe('images removed by retention', () => {
      it('marks the given images, keeping earlier removal times', async () => {
        const running = await runningJob();
        await store.complete(running.id, 1, sampleResult(3));
        await store.markImagesRemoved(running.id, [0], 5_000);
        await store.markImagesRemoved(running.id, [0, 2, 7], 6_000);
        const images = (await store.get(running.id))?.result?.images ?? [];
        expect(images.map((image) => image.removedAt)).toEqual([5_000, null, 6_000]);
      });

      it('refuses jobs that have no result', async () => {
        const { job } = await store.insert(sampleJob());
        await rejectsWith(store.markImagesRemoved(job.id, [0], 1), 'FT_ERR_STORE_CONFLICT');
        await rejectsWith(
          store.markImagesRemoved('job_01ARYZ6S41TSV4RRFFQ69G5FAV', [0], 1),
          'FT_ERR_JOB_NOT_FOUND',
        );
      });
    });

    describe('lists and counts', () => {
      it('lists newest first, filtered, in pages', async () => {
        const ids: string[] = [];
        for (const [index, source] of (
          ['api', 'discord', 'api', 'api', 'slack'] as const
        ).entries()) {
          const owner = { id: index % 2 === 0 ? 'user-1' : 'user-2', source };
          ids.push((await store.insert(sampleJob({ owner }))).job.id);
        }
        const started = await store.markRunning(ids[3] ?? '', 'gpu-9');

        const all = await store.list({ limit: 10 });
        expect(all.jobs.map((job) => job.id)).toEqual([...ids].reverse());
        expect(all.nextBefore).toBeNull();

        const page1 = await store.list({ limit: 2 });
        expect(page1.jobs.map((job) => job.id)).toEqual([ids[4], ids[3]]);
        const page2 = await store.list({ limit: 2, before: page1.nextBefore ?? '' });
        expect(page2.jobs.map((job) => job.id)).toEqual([ids[2], ids[1]]);
        const page3 = await store.list({ limit: 2, before: page2.nextBefore ?? '' });
        expect(page3).toEqual({
          jobs: [expect.objectContaining({ id: ids[0] })],
          nextBefore: null,
        });

        const api = await store.list({ limit: 10, source: 'api', ownerId: 'user-1' });
        expect(api.jobs.map((job) => job.id)).toEqual([ids[2], ids[0]]);
        const running = await store.list({ limit: 10, status: ['running'], backend: 'gpu-9' });
        expect(running.jobs).toEqual([started]);
        const none = await store.list({ limit: 10, status: [] });
        expect(none.jobs).toEqual([]);
      });

      it('lists nothing before an unknown id', async () => {
        await store.insert(sampleJob());
        const page = await store.list({ limit: 5, before: 'job_01ARYZ6S41TSV4RRFFQ69G5FAV' });
        expect(page).toEqual({ jobs: [], nextBefore: null });
      });

      it('refuses a limit outside 1 to 1000', async () => {
        for (const limit of [0, 1_001, 2.5]) {
          const message = await rejectsWith(store.list({ limit }), 'FT_ERR_REQUEST_INVALID');
          expect(message).toContain('limit: must be an integer from 1 to 1000');
        }
      });

      it('counts jobs per status, zero included', async () => {
        const running = await runningJob();
        await store.insert(sampleJob());
        await store.insert(sampleJob());
        const done = await runningJob();
        await store.complete(done.id, 1, sampleResult());
        expect(await store.countByStatus()).toEqual({
          queued: 2,
          running: 1,
          completed: 1,
          failed: 0,
          cancelled: 0,
        });
        expect(running.status).toBe('running');
      });
    });

    describe('recoverInterrupted', () => {
      it('requeues running jobs with attempts left and fails those on their last', async () => {
        const queuedBefore = await store.insert(sampleJob());
        const retry = await runningJob({ maxAttempts: 2 });
        const last = await runningJob({ maxAttempts: 1 });
        const done = await runningJob();
        await store.complete(done.id, 1, sampleResult());
        await store.updateProgress(retry.id, 1, PROGRESS);

        const outcome = await store.recoverInterrupted();
        expect(outcome.requeued.map((job) => job.id)).toEqual([retry.id]);
        expect(outcome.requeued[0]).toMatchObject({
          status: 'queued',
          attempts: 1,
          progress: null,
          error: {
            code: 'FT_ERR_QUEUE_CLOSED',
            message:
              'The engine stopped during attempt 1 of 2 on backend gpu-1; the job was put back in the queue',
          },
        });
        expect(outcome.failed.map((job) => job.id)).toEqual([last.id]);
        expect(outcome.failed[0]).toMatchObject({
          status: 'failed',
          error: {
            code: 'FT_ERR_JOB_ATTEMPTS_EXHAUSTED',
            message:
              'The engine stopped during attempt 1 of 1 on backend gpu-1; no attempts are left',
          },
          finishedAt: clock,
        });
        const queued = await store.listQueued();
        expect(queued.map((job) => job.id)).toEqual([queuedBefore.job.id, retry.id]);
        expect((await store.get(done.id))?.status).toBe('completed');
        expect(await store.recoverInterrupted()).toEqual({ requeued: [], failed: [] });
      });
    });

    describe('close', () => {
      it('fails every call after close with FT_ERR_STORE_FAILURE', async () => {
        const { job } = await store.insert(sampleJob());
        await store.close();
        const message = await rejectsWith(store.get(job.id), 'FT_ERR_STORE_FAILURE');
        expect(message).toMatch(/closed/);
        await rejectsWith(store.insert(sampleJob()), 'FT_ERR_STORE_FAILURE');
        await store.close();
      });
    });
  });
}
