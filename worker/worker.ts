import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, Runtime, makeTelemetryFilterString, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import type { Logger } from '../lib/logger.js';

/** The workflows entry point: compiled JS under dist/, the TypeScript source otherwise (tests). */
export function workflowsPath(): string {
  for (const name of ['index.js', 'index.ts']) {
    const candidate = fileURLToPath(new URL(`../workflows/${name}`, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('workflows/index not found');
}

let runtimeInstalled = false;

/** Routes the SDK's core logs into pino once per process (warnings and above). */
function installRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: {
        log: (level, message, meta) => logger[level === 'ERROR' ? 'error' : level === 'WARN' ? 'warn' : 'debug']({ ...meta }, message),
        trace: () => undefined,
        debug: () => undefined,
        info: (m, meta) => logger.debug({ ...meta }, m),
        warn: (m, meta) => logger.warn({ ...meta }, m),
        error: (m, meta) => logger.error({ ...meta }, m),
      },
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
    });
  } catch {
    // Runtime.install throws if a runtime already exists (e.g. created by the test environment).
  }
}

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  logger: Logger;
  /** A pre-built bundle (tests build it once per run); else workflows are bundled at start. */
  workflowBundle?: WorkflowBundle;
}

export async function createWorker(options: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime(options.logger);
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() }),
    // Stop gracefully within this window; anything unfinished is retried by another worker.
    shutdownGraceTime: '10 seconds',
    // Send collection progress to the server at least every second, so that a worker that
    // dies loses at most about a second of pages.
    maxHeartbeatThrottleInterval: '1 second',
  });
  return { worker, connection };
}
