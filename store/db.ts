import path from 'node:path';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';

/**
 * The one database interface of the hub. PGlite (PostgreSQL compiled to WASM, in-process)
 * by default, a real PostgreSQL when DATABASE_URL is set: the same SQL runs on both.
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction; rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a procedure in one transaction, next to the database where that saves round trips (see Procedure). */
  run<A, R>(procedure: Procedure<A, R>, args: A): Promise<R>;
  close(): Promise<void>;
}

/**
 * A transaction the store may run next to the database: on the embedded database's thread
 * (store/pglite-thread.ts) it runs there whole, its statements without a round trip between
 * threads each, which matters for the short, frequent transactions on the delivery path; on
 * PostgreSQL and in-process PGlite it is an ordinary transaction. So that the thread can load
 * it, a procedure is an export of a module of store/ (`module` is that module's
 * import.meta.url, `name` the export's name), its arguments and result are structured-clonable
 * values, and `run` uses nothing but `tx` and what the module imports.
 */
export interface Procedure<A, R> {
  readonly module: string;
  readonly name: string;
  run(tx: Queryable, args: A): Promise<R>;
}

export function defineProcedure<A, R>(module: string, name: string, run: (tx: Queryable, args: A) => Promise<R>): Procedure<A, R> {
  // Under a TypeScript loader the module URL may carry a query: the file is what names it.
  const url = new URL(module);
  url.search = '';
  return { module: url.href, name, run };
}

/**
 * Server settings of the embedded database, given to PGlite at start as `-c name=value` (its
 * postgresql.conf is left as initdb wrote it). PGlite's own default of shared_buffers is
 * 128 MB of buffer pool inside the WASM memory, touched as pages are read and kept for the life
 * of the process: most of an idle hub's resident memory. The embedded hub holds a small
 * database, so a 16 MB pool holds its hot pages; a larger installation runs on PostgreSQL
 * (DATABASE_URL). `npm run bench -- footprint` shows what each setting changes.
 * A value of null leaves that setting at PGlite's default.
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string | null>> = {
  shared_buffers: '16MB',
};

export async function openDb(options: { databaseUrl: string | null; dataDir: string; pglite?: Record<string, string | null> }): Promise<Db> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl);
  const dir = path.join(options.dataDir, 'pg');
  await mkdir(dir, { recursive: true });
  // The hub's embedded database runs in a thread of its own (store/pglite-thread.ts).
  const [{ PGlite }, { openPgliteThread }] = await Promise.all([import('@electric-sql/pglite'), import('./pglite-thread.js')]);
  const startParams = pgliteStartParams(PGlite.defaultStartParams, options.pglite);
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    // A new database: initdb runs in a thread that then ends. It grows a second PGlite and the
    // initdb WASM to several hundred MB, which the long-lived thread would keep resident.
    await (await openPgliteThread(dir, startParams)).close();
  }
  return openPgliteThread(dir, startParams);
}

/** PGlite's start parameters with the server settings added as `-c name=value`. */
export function pgliteStartParams(defaults: readonly string[], settings: Record<string, string | null> = PGLITE_SETTINGS): string[] {
  const startParams = [...defaults];
  for (const [name, value] of Object.entries(settings)) if (value !== null) startParams.push('-c', `${name}=${value}`);
  return startParams;
}

export async function openPglite(dataDir?: string, settings: Record<string, string | null> = PGLITE_SETTINGS): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const startParams = pgliteStartParams(PGlite.defaultStartParams, settings);
  // Timestamps are read as node-postgres reads them: PGlite's own parser takes the years 0001
  // to 0099 for 1901 to 1999 (or an invalid date), so such a timestamp would not read back as written.
  const { default: pgModule } = await import('pg');
  const TIMESTAMPTZ = pgModule.types.builtins.TIMESTAMPTZ;
  const db: PGlite = await PGlite.create(dataDir, { startParams, parsers: { [TIMESTAMPTZ]: pgModule.types.getTypeParser(TIMESTAMPTZ) } });
  const wrap = pgliteQueryable;
  const procedureQueryable = (await import('./pglite-statements.js')).preparedStatements(db);
  return {
    kind: 'pglite',
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    run: (procedure, args) => db.transaction((tx) => procedure.run(procedureQueryable(tx), args)),
    close: () => db.close(),
  };
}

/** A PGlite instance or transaction as the hub's Queryable (also used by the database thread). */
export function pgliteQueryable(q: PGlite | Transaction): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]) {
      const result = await q.query<T>(sql, params as unknown[]);
      return result.rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  };
}

export async function openPostgres(connectionString: string): Promise<Db> {
  const { default: pgModule } = await import('pg');
  const pool: pg.Pool = new pgModule.Pool({ connectionString, max: 10 });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => undefined);
  const db: Db = {
    kind: 'postgres',
    async query<T>(sql: string, params?: unknown[]) {
      const result = await pool.query(sql, params);
      return result.rows as T[];
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      const client = await pool.connect();
      try {
        // The audit chain relies on READ COMMITTED (a read after a lock sees the previous holder's
        // commit): set it explicitly, whatever the server's or role's default.
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        const result = await fn({
          async query<R>(sql: string, params?: unknown[]) {
            return (await client.query(sql, params)).rows as R[];
          },
          async exec(sql: string) {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    run: (procedure, args) => db.transaction((tx) => procedure.run(tx, args)),
    close: () => pool.end(),
  };
  return db;
}

/**
 * Runs `fn` atomically: in a new transaction on a Db, or directly when `q` already is one
 * (a store built over a transaction), so stores can write a change and its event together
 * whichever way they were built.
 */
export function atomically<T>(q: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return isDb(q) ? q.transaction(fn) : fn(q);
}

/** A procedure, atomically: run by the Db (next to the database), or directly in the caller's transaction `q`. */
export function runAtomically<A, R>(q: Queryable, procedure: Procedure<A, R>, args: A): Promise<R> {
  return isDb(q) ? q.run(procedure, args) : procedure.run(q, args);
}

function isDb(q: Queryable): q is Db {
  return 'transaction' in q && typeof (q as Db).transaction === 'function';
}
