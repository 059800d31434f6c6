import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Server } from 'node:http';
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/**
 * Load from autocannon in a worker thread (so the load generator does not share the event
 * loop with the server under test). `rate` fixes the offered load; without it, as fast as
 * `connections` allow.
 */
export async function load(url: string, options: { headers?: Record<string, string>; seconds: number; connections: number; rate?: number }): Promise<LoadResult> {
  const result = await autocannon({
    url,
    headers: options.headers,
    duration: options.seconds,
    connections: options.connections,
    workers: 1,
    ...(options.rate ? { overallRate: options.rate } : {}),
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

export function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    resolve(`http://127.0.0.1:${address.port}`);
  }));
}

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function table(rows: Record<string, string | number>[]): void {
  console.table(rows);
}

/**
 * Starts a bench script (`bench/<script>`) as its own process — a simulator or receivers that
 * must not share the event loop of the process under test — and reads the JSON line it prints
 * once it is listening.
 */
export async function startChildService<T>(script: string, args: string[] = []): Promise<{ info: T; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { info: JSON.parse(line) as T, pid: child.pid!, stop: () => child.kill() };
}

/** Samples RSS every 20 ms while `fn` runs; returns its result, the wall time and the peak RSS in MB. */
export async function timeWithPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  const started = performance.now();
  try {
    const result = await fn();
    return { result, ms: performance.now() - started, peakRssMb: Math.round(Math.max(peak, process.memoryUsage().rss) / 1048576) };
  } finally {
    clearInterval(timer);
  }
}

/**
 * CPU time (user + system, ms) a process has used so far, all its threads included, from
 * /proc/<pid>/stat; null where there is no /proc. Clock ticks are read as 100 per second,
 * Linux's USER_HZ on every architecture it runs Node on.
 */
export function processCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}
