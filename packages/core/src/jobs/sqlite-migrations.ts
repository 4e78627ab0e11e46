/**
 * The job store's SQLite schema, as numbered migrations. A migration is never edited once
 * released: a change is a new migration with the next number. Each runs in its own transaction
 * and is recorded in `schema_migrations`, so a crash mid-migration leaves the previous version.
 */
import type { Database } from 'better-sqlite3';
import { ForgeToolError } from '../errors.js';

/** One step of the schema. */
export interface SqliteMigration {
  /** 1, 2, 3, ...: applied in order, each exactly once. */
  readonly version: number;
  /** What it does, recorded with it. */
  readonly name: string;
  /** The SQL it runs. */
  readonly sql: string;
}

/** Every migration of the job store, oldest first. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'jobs table, queue and lookup indexes, sequence counter',
    sql: `
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        sequence INTEGER NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('txt2img', 'img2img', 'upscale')),
        status TEXT NOT NULL
          CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
        priority INTEGER NOT NULL,
        owner_id TEXT NOT NULL,
        owner_source TEXT NOT NULL,
        idempotency_key TEXT,
        attempts INTEGER NOT NULL CHECK (attempts >= 0),
        max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
        backend TEXT,
        request TEXT NOT NULL CHECK (json_valid(request)),
        resolved TEXT NOT NULL CHECK (json_valid(resolved)),
        progress TEXT CHECK (progress IS NULL OR json_valid(progress)),
        result TEXT CHECK (result IS NULL OR json_valid(result)),
        error TEXT CHECK (error IS NULL OR json_valid(error)),
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        updated_at INTEGER NOT NULL
      ) STRICT;

      -- The scheduler's start-up read and recovery: queued and running jobs in insertion order.
      CREATE INDEX jobs_active ON jobs (status, sequence) WHERE status IN ('queued', 'running');
      CREATE INDEX jobs_by_status ON jobs (status, sequence);
      CREATE INDEX jobs_by_owner ON jobs (owner_source, owner_id, sequence);
      CREATE INDEX jobs_by_backend ON jobs (backend, sequence);
      CREATE UNIQUE INDEX jobs_idempotency ON jobs (owner_source, owner_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;

      -- Sequence numbers are never reused, not even after jobs are deleted.
      CREATE TABLE job_sequence (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
      ) STRICT;
      INSERT INTO job_sequence (id, value) VALUES (1, 0);
    `,
  },
];

/**
 * Brings the database up to the newest migration and returns its version. Safe when several
 * processes open the same file at once: each migration re-checks the version inside its
 * (immediate) transaction.
 * @throws ForgeToolError (`FT_ERR_STORE_FAILURE`) when a migration fails (it is rolled back), or
 *   the database was written by a newer build with migrations this one does not know
 */
export function migrate(
  db: Database,
  migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS,
  now: () => number = Date.now,
): number {
  db.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT
  `);
  const newest = migrations.at(-1)?.version ?? 0;
  const current = currentVersion(db);
  if (current > newest) {
    throw new ForgeToolError(
      'FT_ERR_STORE_FAILURE',
      `The job database is at schema version ${current}, newer than this build knows ` +
        `(${newest}); upgrade Forge API Tool or use another database file`,
    );
  }
  for (const migration of migrations) applyOnce(db, migration, now);
  return currentVersion(db);
}

function applyOnce(db: Database, migration: SqliteMigration, now: () => number): void {
  const apply = db.transaction(() => {
    if (currentVersion(db) >= migration.version) return;
    db.exec(migration.sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      migration.version,
      migration.name,
      now(),
    );
  });
  try {
    apply.immediate();
  } catch (error) {
    throw new ForgeToolError(
      'FT_ERR_STORE_FAILURE',
      `Job database migration ${migration.version} (${migration.name}) failed and was ` +
        `rolled back: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

function currentVersion(db: Database): number {
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as
    { version: number | null } | undefined;
  return row?.version ?? 0;
}
