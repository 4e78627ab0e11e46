// The SQLite job store: the shared contract, plus what only a database file can show
// (reopening, migrations, crash recovery, rollback of a failed transition).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForgeToolError } from '../../src/errors.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import { SQLITE_MIGRATIONS } from '../../src/jobs/sqlite-migrations.js';
import {
  describeJobStoreContract,
  rejectsWith,
  sampleJob,
  sampleResult,
} from './job-store-contract.js';

describeJobStoreContract(
  'SqliteJobStore (memory)',
  (now) => new SqliteJobStore({ path: ':memory:', now }),
);

describe('SqliteJobStore on a file', () => {
  let dir: string;
  let path: string;
  const opened: SqliteJobStore[] = [];
  const raws: Database.Database[] = [];

  function open(): SqliteJobStore {
    const store = new SqliteJobStore({ path });
    opened.push(store);
    return store;
  }

  function raw(): Database.Database {
    const db = new Database(path);
    raws.push(db);
    return db;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-tool-jobs-'));
    path = join(dir, 'jobs.db');
  });

  afterEach(async () => {
    for (const db of raws.splice(0)) db.close();
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps jobs, their order and their results across close and reopen', async () => {
    const first = open();
    const done = await first.insert(sampleJob());
    const waiting = await first.insert(sampleJob());
    await first.markRunning(done.job.id, 'gpu-1');
    await first.complete(done.job.id, 1, sampleResult());
    await first.close();

    const second = open();
    expect(await second.get(done.job.id)).toMatchObject({
      status: 'completed',
      result: sampleResult(),
    });
    expect((await second.listQueued()).map((job) => job.id)).toEqual([waiting.job.id]);
    const next = await second.insert(sampleJob());
    expect(next.job.sequence).toBeGreaterThan(waiting.job.sequence);
  });

  it('uses WAL and runs each migration once, recording its version', async () => {
    const store = open();
    expect(store.schemaVersion).toBe(SQLITE_MIGRATIONS.length);
    await store.close();
    open();
    const db = raw();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const rows = db.prepare('SELECT version, name FROM schema_migrations').all();
    expect(rows).toEqual(
      SQLITE_MIGRATIONS.map((migration) => ({ version: migration.version, name: migration.name })),
    );
  });

  it('refuses a database from a newer build', async () => {
    await open().close();
    raw()
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)')
      .run('from the future');
    expect(() => open()).toThrow(/schema version 99, newer than this build knows/);
  });

  it('fails with FT_ERR_STORE_FAILURE when the file cannot be opened', () => {
    let caught: unknown;
    try {
      new SqliteJobStore({ path: join(dir, 'missing', 'deeper', 'jobs.db') });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ForgeToolError);
    expect((caught as ForgeToolError).code).toBe('FT_ERR_STORE_FAILURE');
    expect((caught as Error).message).toContain('missing');
  });

  it('recovers after a crash: a second process finds the running jobs', async () => {
    const crashed = open();
    const retry = await crashed.insert(sampleJob({ maxAttempts: 3 }));
    const last = await crashed.insert(sampleJob({ maxAttempts: 1 }));
    const queued = await crashed.insert(sampleJob());
    await crashed.markRunning(retry.job.id, 'gpu-1');
    await crashed.markRunning(last.job.id, 'gpu-2');
    // `crashed` is never closed, as a killed process would leave the file.

    const restarted = open();
    const outcome = await restarted.recoverInterrupted();
    expect(outcome.requeued.map((job) => job.id)).toEqual([retry.job.id]);
    expect(outcome.failed.map((job) => job.id)).toEqual([last.job.id]);
    expect(outcome.failed[0]?.error?.code).toBe('FT_ERR_JOB_ATTEMPTS_EXHAUSTED');
    expect((await restarted.listQueued()).map((job) => job.id)).toEqual([
      retry.job.id,
      queued.job.id,
    ]);
    await rejectsWith(crashed.complete(retry.job.id, 1, sampleResult()), 'FT_ERR_STORE_CONFLICT');
  });

  it('lets exactly one of two processes start a job', async () => {
    const a = open();
    const b = open();
    const { job } = await a.insert(sampleJob());
    const outcomes = await Promise.allSettled([
      a.markRunning(job.id, 'a'),
      b.markRunning(job.id, 'b'),
    ]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await a.get(job.id))?.attempts).toBe(1);
  });

  it('keeps idempotency keys across reopen', async () => {
    const first = open();
    const original = await first.insert(sampleJob({ idempotencyKey: 'order-77' }));
    await first.close();
    const again = await open().insert(sampleJob({ idempotencyKey: 'order-77' }));
    expect(again).toEqual({ job: original.job, created: false });
  });

  it('rolls back a transition that fails inside its transaction', async () => {
    const store = open();
    const { job } = await store.insert(sampleJob());
    const running = await store.markRunning(job.id, 'gpu-1');
    raw().exec(`
      CREATE TRIGGER refuse_completion BEFORE UPDATE OF status ON jobs
      WHEN NEW.status = 'completed' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;
    `);

    const message = await rejectsWith(
      store.complete(job.id, 1, sampleResult()),
      'FT_ERR_STORE_FAILURE',
    );
    expect(message).toBe('Could not complete a job: disk on fire');
    expect(await store.get(job.id)).toEqual(running);
  });

  it('rolls back every change of a recovery that fails part-way', async () => {
    const store = open();
    const retry = await store.insert(sampleJob({ maxAttempts: 2 }));
    const last = await store.insert(sampleJob({ maxAttempts: 1 }));
    await store.markRunning(retry.job.id, 'gpu-1');
    await store.markRunning(last.job.id, 'gpu-1');
    raw().exec(`
      CREATE TRIGGER refuse_failure BEFORE UPDATE OF status ON jobs
      WHEN NEW.status = 'failed' BEGIN SELECT RAISE(ABORT, 'no space left'); END;
    `);

    await rejectsWith(store.recoverInterrupted(), 'FT_ERR_STORE_FAILURE');
    expect((await store.get(retry.job.id))?.status).toBe('running');
    expect(await store.listQueued()).toEqual([]);
  });

  it('does not use up a sequence number on a failed insert', async () => {
    const store = open();
    const first = await store.insert(sampleJob());
    await rejectsWith(store.insert({ ...sampleJob(), id: first.job.id }), 'FT_ERR_STORE_FAILURE');
    const second = await store.insert(sampleJob());
    expect(second.job.sequence).toBe(first.job.sequence + 1);
  });
});
