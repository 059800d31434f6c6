import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Db, Procedure, Queryable } from './db.js';
import type { Reply, Request } from './pglite-thread-worker.js';

type Pending = { resolve: (reply: Reply) => void; reject: (err: Error) => void };
type Message = Request extends infer R ? R extends { id: number } ? Omit<R, 'id'> : never : never;

/** The thread module: the compiled one in a built hub, the TypeScript source through tsx otherwise. */
function threadFile(): string {
  // Under tsx's tsImport the module URL carries a query: look at the path only.
  const fromSource = new URL(import.meta.url).pathname.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? './pglite-thread-loader.mjs' : './pglite-thread-worker.js', import.meta.url));
}

function rebuild(fields: Record<string, unknown>): Error {
  const err = new Error(String(fields.message ?? 'database error'));
  Object.assign(err, fields);
  return err;
}

/**
 * PGlite in a worker thread of its own, behind the same Db interface as in-process PGlite:
 * its statements run on another core instead of blocking the event loop that serves the API,
 * runs the worker's activities and reads the answers of outbound requests. Results cross the
 * thread boundary by structured clone (rows of plain values, Dates and bytes); a database
 * error keeps its PostgreSQL fields (code, detail, constraint…).
 */
export async function openPgliteThread(dataDir: string | undefined, startParams: string[]): Promise<Db> {
  const worker = new Worker(threadFile(), { workerData: { dataDir, startParams } });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let failure: Error | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });
  worker.on('message', (m: Reply & { ready?: boolean }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(rebuild(m.error));
    else p.resolve(m);
  });
  const fail = (err: Error) => {
    failure = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the database thread exited (${code})`)));
  const send = (m: Message): Promise<Reply> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...m, id });
    });
  };
  await ready;

  const on = (tx?: number): Queryable => ({
    async query<T>(sql: string, params?: unknown[]) {
      return ((await send({ op: 'query', sql, params, tx })).rows ?? []) as T[];
    },
    async exec(sql: string) {
      await send({ op: 'exec', sql, tx });
    },
  });
  return {
    kind: 'pglite',
    ...on(),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const id = nextId; // the id of the begin request names the transaction
      await send({ op: 'begin' });
      let result: T;
      try {
        result = await fn(on(id));
      } catch (err) {
        await send({ op: 'end', tx: id, commit: false }).catch(() => undefined);
        throw err;
      }
      await send({ op: 'end', tx: id, commit: true });
      return result;
    },
    async run<A, R>(procedure: Procedure<A, R>, args: A): Promise<R> {
      return (await send({ op: 'procedure', module: procedure.module, name: procedure.name, args })).value as R;
    },
    async close() {
      if (!failure) await send({ op: 'close' }).catch(() => undefined);
      await worker.terminate();
    },
  };
}
