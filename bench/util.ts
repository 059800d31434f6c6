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
