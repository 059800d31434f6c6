import { spawn } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../lib/errors.js';

/**
 * The pinned Temporal CLI. v1.5.1 is the last tag `go install` accepts (later tags carry
 * a `replace` directive), and building it locally works on offline and air-gapped machines
 * that cannot reach the SDK's own server download.
 */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;

export function cachedCliDir(home = os.homedir()): string {
  return path.join(home, '.cache', 'evidence-hub', 'temporal', TEMPORAL_CLI_VERSION);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, envPath = process.env.PATH ?? ''): Promise<string | null> {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

export interface FindOptions {
  configuredPath: string | null;
  /** Called with human-readable progress lines (the one-time build takes minutes). */
  progress?: (line: string) => void;
  cacheDir?: string;
  /** The search path (defaults to $PATH). */
  envPath?: string;
}

/**
 * Finds the CLI in the order of docs/architecture.md, "Runtime": TEMPORAL_CLI_PATH; `temporal` on PATH; the
 * cached build; else builds it into the cache with `go install`.
 */
export async function findOrBuildTemporalCli(options: FindOptions): Promise<string> {
  const progress = options.progress ?? (() => undefined);
  if (options.configuredPath) {
    if (await isExecutable(options.configuredPath)) return options.configuredPath;
    throw new ConfigError(`TEMPORAL_CLI_PATH=${options.configuredPath} is not an executable file`);
  }
  const fromPath = await onPath('temporal', options.envPath);
  if (fromPath) return fromPath;
  const cacheDir = options.cacheDir ?? cachedCliDir();
  const cached = path.join(cacheDir, 'temporal');
  if (await isExecutable(cached)) return cached;

  const go = await onPath('go', options.envPath);
  if (!go) {
    throw new ConfigError(
      `The Temporal CLI v${TEMPORAL_CLI_VERSION} was not found and Go is not installed to build it. Either:\n` +
        `  - install Go (https://go.dev/dl/) and start again: the hub builds the CLI once into ${cacheDir};\n` +
        `  - or build it elsewhere: GOBIN=${cacheDir} go install ${GO_PACKAGE}\n` +
        `  - or set TEMPORAL_CLI_PATH to an existing temporal binary;\n` +
        `  - or set TEMPORAL_ADDRESS to use a Temporal server you already run.`,
    );
  }
  await mkdir(cacheDir, { recursive: true });
  progress(`Building the Temporal CLI v${TEMPORAL_CLI_VERSION} with "go install" into ${cacheDir} (one time only; this takes a few minutes)…`);
  const started = Date.now();
  const ticker = setInterval(() => progress(`  …still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
  try {
    await run(go, ['install', GO_PACKAGE], { ...process.env, GOBIN: cacheDir, GOFLAGS: process.env.GOFLAGS ?? '-mod=mod' });
  } catch (err) {
    throw new ConfigError(
      `Building the Temporal CLI failed: ${(err as Error).message}\n` +
        `Run it by hand to see why: GOBIN=${cacheDir} go install ${GO_PACKAGE}\n` +
        `or set TEMPORAL_CLI_PATH / TEMPORAL_ADDRESS.`,
    );
  } finally {
    clearInterval(ticker);
  }
  progress(`Temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s: ${cached}`);
  return cached;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`))));
  });
}
