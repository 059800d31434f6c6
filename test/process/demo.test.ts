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
    expect(output).toMatch(/== okta: run run_\w+ partial — collected \d+ records, 6 evidence items, 5 delivered, 1 ambiguous/);
    expect(output).toMatch(/== jamf: run run_\w+ succeeded/);
    expect(output).toMatch(/What arrived at AUDIGYD: \d+ evidence items/);
    expect(output).toContain('asm_okta q_mfa_admin');
  }, 180_000);
});
