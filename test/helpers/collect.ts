import { expect } from 'vitest';
import type { ApiCaller, TestHub } from './hub.js';
import { eventually, spawnWorker } from './hub.js';

/** Creates a connection through the API and returns its id. */
export async function createConnection(call: ApiCaller, body: { name?: string; type: string; config: object; secrets?: object }): Promise<string> {
  const res = await call('POST', '/api/v1/connections', { json: { name: body.name ?? `${body.type} test`, ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

/** Runs POST /connections/:id/collect and polls until the collection ends. */
export async function collect(call: ApiCaller, connectionId: string, datasets: string[]): Promise<{ id: string; status: string; error: string | null; snapshots: { id: string; dataset: string; record_count: number; sha256: string }[] }> {
  const started = await call('POST', `/api/v1/connections/${connectionId}/collect?wait=30`, { json: { datasets } });
  expect([200, 202], started.text).toContain(started.status);
  if (started.status === 200) return started.body;
  return eventually(async () => {
    const res = await call('GET', started.headers.get('location')!);
    return res.body.status === 'running' ? null : res.body;
  }, { timeoutMs: 120_000, intervalMs: 250 });
}

/** Every record of a snapshot, read through the paged API. */
export async function snapshotRecords<T = Record<string, unknown>>(call: ApiCaller, snapshotId: string): Promise<T[]> {
  const records: T[] = [];
  let cursor: string | null = null;
  do {
    const res = await call('GET', `/api/v1/snapshots/${snapshotId}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status, res.text).toBe(200);
    records.push(...(res.body.records as T[]));
    cursor = res.body.next_cursor;
  } while (cursor);
  return records;
}

/** Triggers a job's run through the API and waits for its end. */
export async function runToEnd(call: ApiCaller, jobId: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const trigger = await call('POST', `/api/v1/jobs/${jobId}/runs`);
  expect(trigger.status, trigger.text).toBe(202);
  return eventually(async () => {
    const run = await call('GET', `/api/v1/runs/${trigger.body.id}`);
    return ['queued', 'running'].includes(run.body.status) ? null : run.body;
  }, { timeoutMs: 120_000, intervalMs: 200 });
}

type SpawnedWorker = Awaited<ReturnType<typeof spawnWorker>>;

/**
 * A collection of one dataset whose worker is SIGKILLed mid-walk: once Temporal has recorded
 * progress (a stored part in the heartbeat details) and `pagesServed` has gone two pages past
 * it, the worker is killed and a new one started (with `workerEnv`). Resolves with the ended
 * collection and the new worker.
 */
export async function collectAcrossWorkerKill(
  t: TestHub, worker: SpawnedWorker, connectionId: string, dataset: string, pagesServed: () => number, workerEnv: Record<string, string> = {},
): Promise<{ result: any; worker: SpawnedWorker }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const started = await t.call('POST', `/api/v1/connections/${connectionId}/collect?wait=0`, { json: { datasets: [dataset] } });
  expect(started.status).toBe(202);
  const handle = (await t.hub.temporalClient()).workflow.getHandle(`collect-${started.body.id}`);
  await eventually(async () => {
    const { raw } = await handle.describe();
    const details = raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0]?.data;
    return details ? (JSON.parse(Buffer.from(details).toString()) as { parts: string[] }).parts.length >= 1 : false;
  }, { timeoutMs: 120_000, intervalMs: 50 });
  const atProgress = pagesServed();
  await eventually(async () => pagesServed() >= atProgress + 2, { timeoutMs: 60_000, intervalMs: 20 });
  await worker.kill();
  const next = await spawnWorker(t, workerEnv);
  const result = await eventually(async () => {
    const res = await t.call('GET', started.headers.get('location')!);
    return res.body.status === 'running' ? null : res.body;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  return { result, worker: next };
}
