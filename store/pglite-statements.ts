import { parse, protocol, type PGlite, type Transaction } from '@electric-sql/pglite';
import type { Queryable } from './db.js';

/**
 * The statements of store procedures on PGlite, prepared once and then run in one message.
 *
 * PGlite's `query` parses, analyses and plans its statement at every call, in six exchanges
 * with the WASM backend (parse, describe, bind, describe, execute, sync). A procedure runs the
 * same few statements thousands of times (a delivery settles outcomes every few
 * milliseconds), so each is parsed once as a named prepared statement, and each call then is
 * one exchange: bind, describe, execute, sync. PostgreSQL keeps the plan (re-planned when a
 * table it reads changes, as for any prepared statement). Only a procedure's transaction uses
 * this, where its statements run one after the other inside PGlite's transaction; everything
 * else goes through PGlite's own `query`.
 */
export function preparedStatements(db: PGlite): (tx: Transaction) => Queryable {
  const prepared = new Map<string, { name: string; parameterTypes: number[] }>();

  const exchange = async (...messages: Uint8Array[]) => (await db.execProtocol(concat(messages), { syncToFs: false })).messages;

  async function prepare(sql: string): Promise<{ name: string; parameterTypes: number[] }> {
    const known = prepared.get(sql);
    if (known) return known;
    const name = `hub_procedure_${prepared.size + 1}`;
    const described = await exchange(protocol.serialize.parse({ name, text: sql }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync());
    const statement = { name, parameterTypes: parse.parseDescribeStatementResults(described) };
    prepared.set(sql, statement);
    return statement;
  }

  return (tx) => {
    let generic: Promise<unknown> | null = null;
    return {
      async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
        // The store's own statements, whose plan does not depend on the values bound: planned
        // once. PostgreSQL's default plans again at every call while a generic plan's estimate
        // looks worse than a custom one's, as it does for statements over unnest($1) arrays.
        // For this transaction only (SET LOCAL).
        generic ??= tx.exec('SET LOCAL plan_cache_mode = force_generic_plan');
        await generic;
        const { name, parameterTypes } = await prepare(sql);
        // Parameters serialised as PGlite's own query does, by the type the statement declares.
        const values = params.map((value, i) => {
          if (value === null || value === undefined) return null;
          const serialize = db.serializers[parameterTypes[i]!];
          return serialize ? serialize(value) : String(value);
        });
        const results = await exchange(
          protocol.serialize.bind({ statement: name, values: values as (string | null)[] }),
          protocol.serialize.describe({ type: 'P' }),
          protocol.serialize.execute({}),
          protocol.serialize.sync(),
        );
        return parse.parseResults(results, db.parsers)[0]!.rows as T[];
      },
      exec: async (sql: string) => { await tx.exec(sql); },
    };
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
