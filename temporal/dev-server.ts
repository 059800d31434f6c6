import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export interface DevServerOptions {
  binary: string;
  /** null: in-memory state (tests); else the SQLite file that keeps workflows across restarts. */
  dbFile: string | null;
  port: number;
  uiPort: number | null;
  namespace: string;
  ip?: string;
  onLog?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  pid: number;
  stop(): Promise<void>;
}

/** A TCP port that is free right now (the dev server takes ports, not port 0). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(host: string, port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal server exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`temporal server did not listen on ${host}:${port} within ${timeoutMs} ms`);
}

/**
 * Starts `temporal server start-dev` as a child process. The child is stopped with SIGTERM
 * (then SIGKILL after a grace period) by `stop()`, and also when this process exits, so
 * that no orphan server keeps the port and the database file.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port), '--namespace', options.namespace, '--log-level', 'warn',
    // An activity a workflow task schedules on the worker's own queue comes back with that
    // task's completion (eager execution): a run's steps start without a poll round trip each.
    '--dynamic-config-value', 'system.enableActivityEagerExecution=true'];
  if (options.dbFile) {
    await mkdir(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');

  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = options.onLog ?? (() => undefined);
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) log(line);
    });
  }
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  try {
    await waitForPort(ip, options.port, child, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    throw err;
  }

  let stopping: Promise<void> | null = null;
  return {
    address: `${ip}:${options.port}`,
    uiUrl: options.uiPort ? `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${options.uiPort}` : null,
    pid: child.pid!,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        process.off('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
      return stopping;
    },
  };
}
