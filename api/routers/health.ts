import type { RouteSpec } from '../route.js';
import type { Db } from '../../store/db.js';
import type { TemporalGateway } from '../../temporal/gateway.js';

const CHECK_TIMEOUT_MS = 2_000;

async function withTimeout(check: () => Promise<unknown>): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS); }),
    ]);
    return 'ok';
  } catch (err) {
    return (err as Error).message.split('\n')[0] ?? 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

const status = {
  type: 'object', required: ['status'],
  properties: {
    status: { enum: ['ok', 'unavailable'] },
    checks: { type: 'object', required: ['database', 'temporal'], properties: { database: { type: 'string' }, temporal: { type: 'string' } }, description: '`ok`, or what went wrong.' },
  },
};

export function healthRoutes(deps: { db: Db; temporal: TemporalGateway }): RouteSpec[] {
  return [
    {
      method: 'get', path: '/healthz', operationId: 'healthz', tag: 'health', auth: 'public',
      summary: 'Liveness: the process serves HTTP. Not rate limited.',
      responses: { 200: { description: 'Alive.', schema: status } },
      handler: (_req, res) => { res.json({ status: 'ok' }); },
    },
    {
      method: 'get', path: '/readyz', operationId: 'readyz', tag: 'health', auth: 'public',
      summary: 'Readiness: the database and Temporal answer.',
      responses: { 200: { description: 'Ready.', schema: { ...status, required: ['status', 'checks'] } }, 503: { description: 'A dependency does not answer.', schema: { ...status, required: ['status', 'checks'] } } },
      handler: async (_req, res) => {
        const [database, temporal] = await Promise.all([
          withTimeout(() => deps.db.query('SELECT 1')),
          withTimeout(() => deps.temporal.check()),
        ]);
        const ready = database === 'ok' && temporal === 'ok';
        res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable', checks: { database, temporal } });
      },
    },
  ];
}
