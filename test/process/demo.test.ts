import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

describe('npm run demo', () => {
  it('starts the hub with the simulators, runs the jobs and prints what arrived where', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--once'], { cwd: root, env: { ...process.env, TEMPORAL_ADDRESS: '', DATABASE_URL: '', HUB_ADMIN_KEY: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(0);
    // Each Okta hint matches one question: all six items delivered, none ambiguous.
    expect(output).toMatch(/== okta: run run_\w+ succeeded — collected \d+ records, 6 evidence items, 6 delivered, 0 ambiguous/);
    expect(output).toMatch(/== jamf: run run_\w+ succeeded/);
    // Entra ID and Intune through the Graph simulator: every pack hint matches one question.
    expect(output).toMatch(/== entra: run run_\w+ succeeded — collected \d+ records, 5 evidence items, 5 delivered, 0 ambiguous/);
    expect(output).toMatch(/== intune: run run_\w+ succeeded — collected \d+ records, 4 evidence items, 4 delivered, 0 ambiguous/);
    // GitHub through its simulator: the pack's five hints each match one question.
    expect(output).toMatch(/== github: run run_\w+ succeeded — collected \d+ records, 5 evidence items, 5 delivered, 0 ambiguous/);
    expect(output).toMatch(/What arrived at AUDIGYD: \d+ evidence items/);
    expect(output).toContain('asm_okta q_mfa_admin');
    // ISO 27001 coverage after the demo's jobs: the requirements its packs cite, each with its checks.
    expect(output).toMatch(/ISO\/IEC 27001:2022 Annex A: \d+ of 93 requirements covered/);
    expect(output).toMatch(/ {3}8\.5 {3}\w+ +Secure authentication \(\d+ checks?\)/);
    expect(output).toMatch(/ {3}8\.1 {3}\w+ +User endpoint devices \(\d+ checks?\)/);
    expect(output).toMatch(/Posture: \d+ pass, \d+ fail/);
  }, 180_000);
});
