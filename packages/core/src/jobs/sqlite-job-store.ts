/**
 * The embedded job store: one SQLite file (or memory) through better-sqlite3.
 *
 * Every state change is a single guarded `UPDATE ... WHERE id = ? AND status = ? [AND attempts =
 * ?] RETURNING *` inside an immediate transaction, so two processes on one file (or a slow
 * backend answering for an abandoned attempt) can never both win. better-sqlite3 is synchronous:
 * each call holds the event loop for its statement only, which is why every hot-path statement
 * is prepared once and reads one row through an index.
 */
import Database from 'better-sqlite3';
import { ForgeToolError, isForgeToolError } from '../errors.js';
import type { GenerationRequest, ResolvedGenerationRequest } from './generation-request.js';
import type {
  InsertOutcome,
  JobListQuery,
  JobPage,
  JobStore,
  NewJob,
  RecoveryOutcome,
} from './job-store.js';
import {
  checkListQuery,
  emptyStatusCounts,
  hasAttemptsLeft,
  interruptedError,
  jobNotFound,
  notCancellable,
  transitionConflict,
  withImagesRemoved,
  type TransitionGuard,
} from './job-store-rules.js';
import type {
  JobError,
  JobKind,
  JobOwner,
  JobProgress,
  JobRecord,
  JobResult,
  JobStatus,
} from './job.js';
import { migrate } from './sqlite-migrations.js';

/** Options of a {@link SqliteJobStore}. */
export interface SqliteJobStoreOptions {
  /** The database file (created with its folder's permissions), or `':memory:'`. */
  path: string;
  /**
   * How long a write waits for another process's write lock before failing.
   * @defaultValue `5_000`
   */
  busyTimeoutMs?: number;
  /**
   * The clock for timestamps, in ms since the epoch.
   * @defaultValue `Date.now`
   */
  now?: () => number;
}

/** A row of the `jobs` table. */
interface JobRow {
  id: string;
  sequence: number;
  kind: JobKind;
  status: JobStatus;
  priority: number;
  owner_id: string;
  owner_source: JobOwner['source'];
  idempotency_key: string | null;
  attempts: number;
  max_attempts: number;
  backend: string | null;
  request: string;
  resolved: string;
  progress: string | null;
  result: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

const RUNNING_ATTEMPT = "id = @id AND status = 'running' AND attempts = @attempt";

/** The statements every call uses, prepared once. */
function prepareStatements(db: Database.Database) {
  const returning = (sql: string) => db.prepare<unknown[], JobRow>(`${sql} RETURNING *`);
  return {
    byId: db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?'),
    byIdempotency: db.prepare<[string, string, string], JobRow>(
      'SELECT * FROM jobs WHERE owner_source = ? AND owner_id = ? AND idempotency_key = ?',
    ),
    nextSequence: db.prepare<[], { value: number }>(
      'UPDATE job_sequence SET value = value + 1 WHERE id = 1 RETURNING value',
    ),
    insert: returning(
      `INSERT INTO jobs (id, sequence, kind, status, priority, owner_id, owner_source,
         idempotency_key, attempts, max_attempts, request, resolved, created_at, updated_at)
       VALUES (@id, @sequence, @kind, 'queued', @priority, @ownerId, @ownerSource,
         @idempotencyKey, 0, @maxAttempts, @request, @resolved, @now, @now)`,
    ),
    queued: db.prepare<[], JobRow>("SELECT * FROM jobs WHERE status = 'queued' ORDER BY sequence"),
    running: db.prepare<[], JobRow>(
      "SELECT * FROM jobs WHERE status = 'running' ORDER BY sequence",
    ),
    counts: db.prepare<[], { status: JobStatus; count: number }>(
      'SELECT status, COUNT(*) AS count FROM jobs GROUP BY status',
    ),
    markRunning: returning(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, backend = @backend,
         progress = NULL, started_at = @now, updated_at = @now
       WHERE id = @id AND status = 'queued'`,
    ),
    progress: db.prepare(
      `UPDATE jobs SET progress = @progress, updated_at = @now WHERE ${RUNNING_ATTEMPT}`,
    ),
    complete: returning(
      `UPDATE jobs SET status = 'completed', result = @result, error = NULL,
         finished_at = @now, updated_at = @now
       WHERE ${RUNNING_ATTEMPT}`,
    ),
    fail: returning(
      `UPDATE jobs SET status = 'failed', error = @error, finished_at = @now, updated_at = @now
       WHERE ${RUNNING_ATTEMPT}`,
    ),
    requeue: returning(
      `UPDATE jobs SET status = 'queued', error = @error, progress = NULL, updated_at = @now
       WHERE ${RUNNING_ATTEMPT}`,
    ),
    cancel: returning(
      `UPDATE jobs SET status = 'cancelled', error = @error, finished_at = @now, updated_at = @now
       WHERE id = @id AND status IN ('queued', 'running')`,
    ),
    setResult: db.prepare(
      "UPDATE jobs SET result = @result, updated_at = @now WHERE id = @id AND status = 'completed'",
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The SQLite {@link JobStore}: WAL journal (readers never wait for the writer), a busy timeout
 * for other processes' writes, foreign keys on, and versioned migrations run on open.
 * @example
 * ```ts
 * const store = new SqliteJobStore({ path: 'data/jobs.db' });
 * const { requeued } = await store.recoverInterrupted();
 * ```
 */
export class SqliteJobStore implements JobStore {
  /** The schema version the database is at after opening. */
  readonly schemaVersion: number;
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #statements: Statements;
  readonly #listStatements = new Map<string, Database.Statement<unknown[], JobRow>>();

  /**
   * Opens (or creates) the database and brings its schema up to date.
   * @throws ForgeToolError (`FT_ERR_STORE_FAILURE`) when the file cannot be opened or migrated
   */
  constructor(options: SqliteJobStoreOptions) {
    this.#now = options.now ?? Date.now;
    this.#db = openDatabase(options);
    try {
      this.schemaVersion = migrate(this.#db, undefined, this.#now);
      this.#statements = prepareStatements(this.#db);
    } catch (error) {
      this.#db.close();
      throw storeFailure('open the job database', error);
    }
  }

  async insert(job: NewJob): Promise<InsertOutcome> {
    return this.#inTransaction('insert a job', () => {
      const earlier = this.#findByIdempotency(job);
      if (earlier !== undefined) return { job: toRecord(earlier), created: false };
      const sequence = this.#statements.nextSequence.get()?.value ?? 0;
      const row = this.#statements.insert.get(insertParams(job, sequence, this.#now()));
      return { job: toRecord(required(row)), created: true };
    });
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return this.#direct('read a job', () => {
      const row = this.#statements.byId.get(id);
      return row === undefined ? undefined : toRecord(row);
    });
  }

  async findByIdempotencyKey(owner: JobOwner, key: string): Promise<JobRecord | undefined> {
    return this.#direct('read a job', () => {
      const row = this.#statements.byIdempotency.get(owner.source, owner.id, key);
      return row === undefined ? undefined : toRecord(row);
    });
  }

  async list(query: JobListQuery): Promise<JobPage> {
    checkListQuery(query);
    return this.#direct('list jobs', () => {
      const { sql, params } = listSql(query);
      const rows = this.#listStatement(sql).all(...params);
      const jobs = rows.slice(0, query.limit).map(toRecord);
      const nextBefore = rows.length > query.limit ? (jobs.at(-1)?.id ?? null) : null;
      return { jobs, nextBefore };
    });
  }

  async listQueued(): Promise<JobRecord[]> {
    return this.#direct('list queued jobs', () => this.#statements.queued.all().map(toRecord));
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    return this.#direct('count jobs', () => {
      const counts = emptyStatusCounts();
      for (const { status, count } of this.#statements.counts.all()) counts[status] = count;
      return counts;
    });
  }

  async markRunning(id: string, backend: string): Promise<JobRecord> {
    const params = { id, backend, now: this.#now() };
    return this.#transition('start', { from: ['queued'] }, this.#statements.markRunning, params);
  }

  async updateProgress(id: string, attempt: number, progress: JobProgress): Promise<void> {
    const params = { id, attempt, progress: JSON.stringify(progress), now: this.#now() };
    // A miss means the attempt is over: progress that arrives late is dropped on purpose.
    this.#direct('record progress', () => this.#statements.progress.run(params));
  }

  async complete(id: string, attempt: number, result: JobResult): Promise<JobRecord> {
    const params = { id, attempt, result: JSON.stringify(result), now: this.#now() };
    return this.#transition('complete', running(attempt), this.#statements.complete, params);
  }

  async fail(id: string, attempt: number, error: JobError): Promise<JobRecord> {
    const params = { id, attempt, error: JSON.stringify(error), now: this.#now() };
    return this.#transition('fail', running(attempt), this.#statements.fail, params);
  }

  async requeue(id: string, attempt: number, error: JobError): Promise<JobRecord> {
    const params = { id, attempt, error: JSON.stringify(error), now: this.#now() };
    return this.#transition('requeue', running(attempt), this.#statements.requeue, params);
  }

  async cancel(id: string, reason: JobError): Promise<JobRecord> {
    const params = { id, error: JSON.stringify(reason), now: this.#now() };
    return this.#inTransaction('cancel a job', () => {
      const row = this.#statements.cancel.get(params);
      if (row !== undefined) return toRecord(row);
      const current = this.#statements.byId.get(id);
      throw current === undefined ? jobNotFound(id) : notCancellable(current);
    });
  }

  async markImagesRemoved(
    id: string,
    indexes: readonly number[],
    removedAt: number,
  ): Promise<void> {
    this.#inTransaction('mark images removed', () => {
      const row = this.#statements.byId.get(id);
      if (row === undefined) throw jobNotFound(id);
      const job = toRecord(row);
      if (job.status !== 'completed' || job.result === null) {
        throw transitionConflict('mark images removed of', { from: ['completed'] }, job);
      }
      const result = withImagesRemoved(job.result, indexes, removedAt);
      this.#statements.setResult.run({ id, result: JSON.stringify(result), now: this.#now() });
    });
  }

  async recoverInterrupted(): Promise<RecoveryOutcome> {
    return this.#inTransaction('recover interrupted jobs', () => {
      const requeued: JobRecord[] = [];
      const failed: JobRecord[] = [];
      for (const row of this.#statements.running.all()) {
        const job = toRecord(row);
        const params = {
          id: job.id,
          attempt: job.attempts,
          error: JSON.stringify(interruptedError(job)),
          now: this.#now(),
        };
        const statement = hasAttemptsLeft(job) ? this.#statements.requeue : this.#statements.fail;
        const updated = toRecord(required(statement.get(params)));
        (hasAttemptsLeft(job) ? requeued : failed).push(updated);
      }
      return { requeued, failed };
    });
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  /** Runs one guarded transition; a miss becomes a not-found or a conflict naming both states. */
  #transition(
    action: string,
    guard: TransitionGuard,
    statement: Database.Statement<unknown[], JobRow>,
    params: Record<string, unknown>,
  ): JobRecord {
    return this.#inTransaction(`${action} a job`, () => {
      const row = statement.get(params);
      if (row !== undefined) return toRecord(row);
      const id = String(params['id']);
      const current = this.#statements.byId.get(id);
      throw current === undefined ? jobNotFound(id) : transitionConflict(action, guard, current);
    });
  }

  #findByIdempotency(job: NewJob): JobRow | undefined {
    if (job.idempotencyKey === null) return undefined;
    const { source, id } = job.owner;
    return this.#statements.byIdempotency.get(source, id, job.idempotencyKey);
  }

  #listStatement(sql: string): Database.Statement<unknown[], JobRow> {
    let statement = this.#listStatements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare<unknown[], JobRow>(sql);
      this.#listStatements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `work` in an immediate transaction: all of it is written, or none of it. */
  #inTransaction<Result>(action: string, work: () => Result): Result {
    this.#ensureOpen(action);
    try {
      return this.#db.transaction(work).immediate();
    } catch (error) {
      throw isForgeToolError(error) ? error : storeFailure(action, error);
    }
  }

  /** Runs one statement's worth of `work` outside a transaction (reads, and atomic writes). */
  #direct<Result>(action: string, work: () => Result): Result {
    this.#ensureOpen(action);
    try {
      return work();
    } catch (error) {
      throw isForgeToolError(error) ? error : storeFailure(action, error);
    }
  }

  #ensureOpen(action: string): void {
    if (this.#db.open) return;
    throw new ForgeToolError('FT_ERR_STORE_FAILURE', `Cannot ${action}: the job store is closed`);
  }
}

function openDatabase(options: SqliteJobStoreOptions): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(options.path);
  } catch (error) {
    throw storeFailure(`open the job database ${JSON.stringify(options.path)}`, error);
  }
  try {
    db.pragma('journal_mode = WAL');
    // With WAL, NORMAL survives a crash of the process; only a power cut can lose the last
    // commits, and a lost transition re-runs a job rather than corrupting the file.
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000))}`);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw storeFailure('configure the job database', error);
  }
}

function running(attempt: number): TransitionGuard {
  return { from: ['running'], attempt };
}

function insertParams(job: NewJob, sequence: number, now: number): Record<string, unknown> {
  return {
    id: job.id,
    sequence,
    kind: job.kind,
    priority: job.priority,
    ownerId: job.owner.id,
    ownerSource: job.owner.source,
    idempotencyKey: job.idempotencyKey,
    maxAttempts: job.maxAttempts,
    request: JSON.stringify(job.request),
    resolved: JSON.stringify(job.resolved),
    now,
  };
}

/** The SQL and parameters of a {@link JobListQuery}, newest first, one row past the page. */
function listSql(query: JobListQuery): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (query.status !== undefined) {
    conditions.push(`status IN (${query.status.map(() => '?').join(', ') || 'NULL'})`);
    params.push(...query.status);
  }
  const equal = { owner_id: query.ownerId, owner_source: query.source, backend: query.backend };
  for (const [column, value] of Object.entries(equal)) {
    if (value === undefined) continue;
    conditions.push(`${column} = ?`);
    params.push(value);
  }
  if (query.before !== undefined) {
    conditions.push('sequence < (SELECT sequence FROM jobs WHERE id = ?)');
    params.push(query.before);
  }
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  params.push(query.limit + 1);
  return { sql: `SELECT * FROM jobs ${where} ORDER BY sequence DESC LIMIT ?`, params };
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    priority: row.priority,
    owner: { id: row.owner_id, source: row.owner_source },
    request: parseJson<GenerationRequest>(row.request),
    resolved: parseJson<ResolvedGenerationRequest>(row.resolved),
    idempotencyKey: row.idempotency_key,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    backend: row.backend,
    progress: parseNullable<JobProgress>(row.progress),
    result: parseNullable<JobResult>(row.result),
    error: parseNullable<JobError>(row.error),
    sequence: row.sequence,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

function parseJson<Value>(text: string): Value {
  return JSON.parse(text) as Value;
}

function parseNullable<Value>(text: string | null): Value | null {
  return text === null ? null : parseJson<Value>(text);
}

function required(row: JobRow | undefined): JobRow {
  if (row !== undefined) return row;
  // Only reachable if SQLite broke its RETURNING contract; rolled back with the transaction.
  throw new ForgeToolError('FT_ERR_STORE_FAILURE', 'The job store wrote a row it cannot read back');
}

function storeFailure(action: string, error: unknown): ForgeToolError {
  if (isForgeToolError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ForgeToolError('FT_ERR_STORE_FAILURE', `Could not ${action}: ${reason}`, {
    cause: error,
  });
}
