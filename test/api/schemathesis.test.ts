/**
 * The OpenAPI document against the running hub, by schemathesis: requests generated from the
 * document's schemas (and following its links from creates to what they made) must be
 * accepted when the document allows them ("validation mismatch" fails the run), and every
 * answer must be a documented status with a documented content type and body, never a 5xx;
 * operations that need a key must refuse a request without one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { SCHEMATHESIS_VERSION, createFixtures, runSchemathesis, schemathesisCommand, schemathesisConfig, startLocalSystem } from '../helpers/schemathesis.js';

// Examples per operation and phase: enough to reach every branch of the create bodies, few
// enough for the whole run to stay within a few minutes on two cores.
const MAX_EXAMPLES = 10;
const SEED = 1;

describe('the OpenAPI document tells the truth (schemathesis)', () => {
  let t: TestHub;
  let local: Awaited<ReturnType<typeof startLocalSystem>>;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'schemathesis-'));
    local = await startLocalSystem();
    t = await startTestHub({ env: { HUB_RATE_LIMIT_PER_MINUTE: '1000000', HUB_DELIVERY_MAX_ATTEMPTS: '1', LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await t?.stop();
    await local?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('accepts what the document allows and answers only what it declares', async () => {
    const command = schemathesisCommand();
    if (!command) {
      throw new Error(`schemathesis is not installed: .ci/run installs it (python3 -m pip install 'schemathesis==${SCHEMATHESIS_VERSION}')`);
    }
    const version = spawnSync(command, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (!version.includes(SCHEMATHESIS_VERSION)) {
      throw new Error(`this test pins schemathesis ${SCHEMATHESIS_VERSION}, found "${version}": .ci/run installs it (python3 -m pip install 'schemathesis==${SCHEMATHESIS_VERSION}')`);
    }
    const fixtures = await createFixtures(t.call, local.url);
    const run = await runSchemathesis(command, {
      dir, url: t.url, key: t.adminKey, config: schemathesisConfig(fixtures, { maxExamples: MAX_EXAMPLES }),
      maxExamples: MAX_EXAMPLES, seed: SEED, timeoutMs: 300_000,
    });
    console.log(`schemathesis: ${run.summary}`);
    // On failure, the report's failures and warnings (the end of the output) say what and how to reproduce.
    expect(run.code, run.output.slice(-30_000)).toBe(0);
  }, 420_000);
});
