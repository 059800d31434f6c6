/**
 * The embedded database's thread (store/pglite-thread.ts): PGlite runs its WASM PostgreSQL
 * synchronously on the thread that calls it, so it gets a thread of its own and the hub's
 * event loop (API, worker, outbound requests) keeps answering while a statement runs.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Procedure } from './db.js';

export type Request =
  | { id: number; op: 'query'; sql: string; params?: unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'procedure'; module: string; name: string; args: unknown }
  | { id: number; op: 'close' };

/** `rows` of a query, `value` of a procedure. */
export type Reply = { id: number; rows?: unknown[]; value?: unknown; error?: Record<string, unknown> };

/** This module's directory: procedures are loaded from modules of the store, nothing else. */
const STORE_DIR = path.dirname(fileURLToPath(import.meta.url));

/** The procedures loaded so far, by module and name (a dynamic import per call costs a loader round). */
const loaded = new Map<string, Promise<Procedure<unknown, unknown>>>();

/** The procedure a message names (see Procedure in store/db.ts), loaded once. */
function loadProcedure(module: string, name: string): Promise<Procedure<unknown, unknown>> {
  const key = `${module}#${name}`;
  let procedure = loaded.get(key);
  if (!procedure) {
    procedure = importProcedure(module, name);
    // A refused or failed load is not kept: the next call says why again.
    procedure.catch(() => loaded.delete(key));
    loaded.set(key, procedure);
  }
  return procedure;
}

async function importProcedure(module: string, name: string): Promise<Procedure<unknown, unknown>> {
  const file = fileURLToPath(module);
  if (path.dirname(file) !== STORE_DIR) throw new Error(`procedures are loaded from the store's modules, not ${file}`);
  const procedure = ((await import(module)) as Record<string, Partial<Procedure<unknown, unknown>> | undefined>)[name];
  if (typeof procedure?.run !== 'function' || procedure.name !== name) throw new Error(`${file} exports no procedure ${name}`);
  return procedure as Procedure<unknown, unknown>;
}

/** An error as plain fields (PostgreSQL's code, detail, constraint… included) for the other side to rebuild. */
function plain(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const fields: Record<string, unknown> = { message: err.message, name: err.name };
  for (const [k, v] of Object.entries(err)) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) fields[k] = v;
  return fields;
}

async function main(): Promise<void> {
  const { dataDir, startParams } = workerData as { dataDir: string | undefined; startParams: string[] };
  const [{ PGlite: PGliteClass }, { preparedStatements }] = await Promise.all([import('@electric-sql/pglite'), import('./pglite-statements.js')]);
  // Timestamps are read as node-postgres reads them (see openPglite in store/db.ts).
  const { default: pgModule } = await import('pg');
  const TIMESTAMPTZ = pgModule.types.builtins.TIMESTAMPTZ;
  const db: PGlite = await PGliteClass.create(dataDir, { startParams, parsers: { [TIMESTAMPTZ]: pgModule.types.getTypeParser(TIMESTAMPTZ) } });
  const procedureQueryable = preparedStatements(db);
  const open = new Map<number, { tx: Transaction; end: (commit: boolean) => void; done: Promise<unknown> }>();
  const port = parentPort!;
  const reply = (r: Reply) => port.postMessage(r);

  port.on('message', (m: Request) => {
    void (async () => {
      try {
        if (m.op === 'query' || m.op === 'exec') {
          const q = m.tx === undefined ? db : open.get(m.tx)?.tx;
          if (!q) throw new Error('the transaction has ended');
          if (m.op === 'exec') {
            await q.exec(m.sql);
            reply({ id: m.id, rows: [] });
          } else {
            reply({ id: m.id, rows: (await q.query(m.sql, m.params)).rows });
          }
        } else if (m.op === 'begin') {
          // PGlite's own transaction (it holds the database for this transaction's statements);
          // it ends when the other side says commit or rollback.
          await new Promise<void>((started, failed) => {
            let end!: (commit: boolean) => void;
            const finish = new Promise<boolean>((resolve) => { end = resolve; });
            const done = db.transaction(async (tx) => {
              open.set(m.id, { tx, end, done });
              started();
              if (!(await finish)) await tx.rollback();
            });
            done.catch(failed);
          });
          reply({ id: m.id });
        } else if (m.op === 'end') {
          const entry = open.get(m.tx);
          if (!entry) throw new Error('the transaction has ended');
          open.delete(m.tx);
          entry.end(m.commit);
          await entry.done;
          reply({ id: m.id });
        } else if (m.op === 'procedure') {
          const procedure = await loadProcedure(m.module, m.name);
          const value = await db.transaction((tx) => procedure.run(procedureQueryable(tx), m.args));
          reply({ id: m.id, value });
        } else if (m.op === 'close') {
          await db.close();
          reply({ id: m.id });
          port.close();
        }
      } catch (err) {
        reply({ id: m.id, error: plain(err) });
      }
    })();
  });
  port.postMessage({ id: 0, ready: true });
}

main().catch((err: unknown) => {
  parentPort!.postMessage({ id: 0, error: plain(err) });
});
