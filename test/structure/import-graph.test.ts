import { describe, expect, test } from 'vitest';
import { importCycles, importEdges, productFiles } from '../helpers/import-graph.js';

// The layers point one way (docs/architecture.md): api → temporal → workflows → activities →
// connectors | mappings | webhooks → store → lib. Lint refuses the back-arrows file by file;
// this test refuses what lint cannot see: a cycle through any number of modules.
const root = process.cwd();
const edges = importEdges(root, productFiles(root));

describe('import graph', () => {
  test('reads the project (a broken reader would make the checks below pass on nothing)', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ from: 'hub.ts', to: 'api/app.ts', typeOnly: false });
    expect(edges).toContainEqual({ from: 'workflows/run.ts', to: 'activities/index.ts', typeOnly: true });
  });

  test('no module imports itself through others, not even for types', () => {
    expect(importCycles(edges)).toEqual([]);
  });

  test('finds a cycle when there is one', () => {
    const cycle = importCycles([
      { from: 'store/a.ts', to: 'store/b.ts', typeOnly: false },
      { from: 'store/b.ts', to: 'webhooks/c.ts', typeOnly: true },
      { from: 'webhooks/c.ts', to: 'store/a.ts', typeOnly: false },
      { from: 'lib/d.ts', to: 'lib/e.ts', typeOnly: false },
    ]);
    expect(cycle).toEqual([['store/a.ts', 'store/b.ts', 'webhooks/c.ts']]);
  });

  test('lib/ imports nothing of the project', () => {
    expect(edges.filter((e) => e.from.startsWith('lib/') && !e.to.startsWith('lib/'))).toEqual([]);
  });
});
