/**
 * The workflow safety net: every recorded history in test/fixtures/histories replays against
 * the current workflow code (workflows/index.ts, bundled as the worker bundles it). A change
 * that alters the commands a workflow issues for a history it already has (another order,
 * one more or one less activity, a timer) without patched() makes the replay fail with a
 * nondeterminism error here, before it fails for the runs in flight on a real cluster.
 * New histories: `npm run record-histories` (test/fixtures/histories/README.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowsPath } from '../../worker/worker.js';
import { historyFromJSON, type History } from '../helpers/history-json.js';

const root = path.resolve(import.meta.dirname, '../..');
const HISTORIES = path.join(root, 'test/fixtures/histories');

/**
 * For each patched() id: histories recorded with the workflow code from before the patch, whose
 * run reached the patched step. Both patches of workflows/run.ts came in commit 2285478; these
 * were recorded from 2285478^. A new patched() needs its entry (and its history) here.
 */
const RECORDED_BEFORE: Record<string, string[]> = {
  'export-run-trace': ['runJobWorkflow-pre-patch-succeeded', 'runJobWorkflow-pre-patch-collection-failed'],
  'connection-failed-event': ['runJobWorkflow-pre-patch-collection-failed'],
  'uncollected-datasets-as-errors': ['runJobWorkflow-collection-failed', 'runJobWorkflow-succeeded'],
  // Recorded before the patch, each with a delivery step: batches of 50 in two lanes, and their retries running out.
  'delivery-in-large-batches': ['runJobWorkflow-succeeded', 'runJobWorkflow-delivery-failed'],
};

interface Recorded {
  name: string;
  workflowType: string;
  history: History;
  /** The patch ids of its core_patch markers. */
  patches: Set<string>;
}

function load(file: string): Recorded {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')));
  const events = history.events ?? [];
  const workflowType = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
  if (!workflowType) throw new Error(`${file}: the first event is not WorkflowExecutionStarted`);
  const patches = new Set<string>();
  for (const e of events) {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') continue;
    const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
    if (data) patches.add((JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id);
  }
  return { name: file.replace(/\.json$/, ''), workflowType, history, patches };
}

const recorded = readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort().map(load);

/** The patch ids the workflow code asks about, by the file that asks. */
function patchIdsInSource(): Map<string, string> {
  const ids = new Map<string, string>();
  const dir = path.join(root, 'workflows');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(path.join(dir, file), 'utf8');
    for (const m of source.matchAll(/\b(?:patched|deprecatePatch)\(\s*(['"`])([^'"`]+)\1/g)) ids.set(m[2]!, file);
  }
  return ids;
}

describe('workflow histories replay against the current workflow code', () => {
  const errors = new Map<string, Error | undefined>();

  beforeAll(async () => {
    // The entry point the worker bundles (worker/worker.ts), bundled afresh from the source.
    const options: ReplayWorkerOptions = { workflowsPath: workflowsPath() };
    const histories = recorded.map((r) => ({ workflowId: r.name, history: r.history }));
    for await (const result of Worker.runReplayHistories(options, histories)) errors.set(result.workflowId, result.error);
  }, 120_000);

  it('there are histories', () => {
    expect(recorded.length).toBeGreaterThan(0);
  });

  it.each(recorded.map((r) => r.name))('%s replays without a nondeterminism error', (name) => {
    expect(errors.has(name), `${name} was not replayed`).toBe(true);
    const error = errors.get(name);
    if (error) throw error;
  });

  it('every workflow that workflows/index.ts registers has a history', async () => {
    const registered = Object.entries(await import('../../workflows/index.js')).filter(([, v]) => typeof v === 'function').map(([k]) => k).sort();
    expect(registered.length).toBeGreaterThan(0);
    const withHistory = new Set(recorded.map((r) => r.workflowType));
    expect(registered.filter((w) => !withHistory.has(w)), 'workflows without a recorded history (npm run record-histories)').toEqual([]);
  });

  it('every patched() id has a history from before the patch and one from after', () => {
    const ids = patchIdsInSource();
    expect(ids.size).toBeGreaterThan(0);
    for (const [id, file] of ids) {
      const after = recorded.filter((r) => r.patches.has(id));
      expect(after.map((r) => r.name), `no history has the marker of patched('${id}') (workflows/${file})`).not.toEqual([]);
      const types = new Set(after.map((r) => r.workflowType));
      const before = RECORDED_BEFORE[id];
      expect(before, `patched('${id}') (workflows/${file}) has no history from before it: record one and list it in RECORDED_BEFORE`).toBeDefined();
      for (const name of before!) {
        const r = recorded.find((h) => h.name === name);
        expect(r, `${name}.json is missing`).toBeDefined();
        expect(types.has(r!.workflowType), `${name} is a ${r!.workflowType}, not the workflow that calls patched('${id}')`).toBe(true);
        expect(r!.patches.has(id), `${name} has the marker of '${id}': it was not recorded before the patch`).toBe(false);
      }
    }
  });
});
