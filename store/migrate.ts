import type { Db } from './db.js';
import { migrations as allMigrations, type Migration } from './migrations/index.js';
import { ADVISORY_LOCKS } from './advisory-locks.js';

// Any constant works; it only has to be the same for every hub process sharing a database.
const MIGRATION_LOCK_ID = ADVISORY_LOCKS.migrations;

/**
 * Applies pending migrations in one transaction each. Several processes starting at once
 * (API and workers under docker-compose) serialise on an advisory lock.
 */
export async function migrate(db: Db, migrations: Migration[] = allMigrations): Promise<number[]> {
  const applied: number[] = [];
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version),
    );
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
  });
  return applied;
}
