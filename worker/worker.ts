import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, Runtime, makeTelemetryFilterString, type WorkflowBundle, type WorkflowBundleOption } from '@temporalio/worker';
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

/**
 * The workflow bundle `npm run build` made (dist/workflow-bundle.js beside the compiled
 * worker), so that a built hub starts without running webpack; null when running from source.
 */
export function prebuiltWorkflowBundle(): WorkflowBundleOption | null {
  const codePath = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
  return import.meta.url.endsWith('.js') && existsSync(codePath) ? { codePath } : null;
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
  /** A pre-built bundle (tests build it once per run); else the build's, else workflows are bundled at start. */
  workflowBundle?: WorkflowBundle;
}

function workflowSource(given: WorkflowBundle | undefined): { workflowBundle: WorkflowBundleOption } | { workflowsPath: string } {
  const bundle = given ?? prebuiltWorkflowBundle();
  return bundle ? { workflowBundle: bundle } : { workflowsPath: workflowsPath() };
}

export async function createWorker(options: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime(options.logger);
  const connection = await NativeConnection.connect({ address: options.address });
  const source = workflowSource(options.workflowBundle);
  options.logger.info({ workflows: 'workflowBundle' in source ? ('codePath' in source.workflowBundle ? `prebuilt bundle ${source.workflowBundle.codePath}` : 'bundle given') : 'bundled at start (webpack)' }, 'worker workflow code');
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    ...source,
    // Stop gracefully within this window; anything unfinished is retried by another worker.
    shutdownGraceTime: '10 seconds',
    // Send collection progress to the server at least every second, so that a worker that
    // dies loses at most about a second of pages.
    maxHeartbeatThrottleInterval: '1 second',
  });
  return { worker, connection };
}
