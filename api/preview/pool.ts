import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { HubError } from '../../lib/errors.js';
import type { PreviewOutcome, PreviewTask } from './task.js';

export interface PreviewLimits {
  /** A preview still running after this long is stopped (its thread terminated): 422. */
  deadlineMs: number;
  /** Largest response in bytes: 413 past it. */
  maxResponseBytes: number;
  /** Previews running at once per workspace: 429 past it. */
  perWorkspace: number;
  /** Threads of the pool (idle ones exit after a minute). */
  threads: number;
  /** Heap of one preview thread, in MB: a preview that needs more ends as too large. */
  threadHeapMb: number;
}

/** The thread module: the compiled one in a built hub, the TypeScript source through tsx otherwise. */
function workerFile(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? './worker-loader.mjs' : './worker.js', import.meta.url));
}

/**
 * Runs mapping previews on a pool of worker threads, so that no preview (a large snapshot to
 * parse, a slow rule) holds the API's event loop: health checks and other tenants' requests
 * keep answering. Each preview has a deadline, a response-size cap and a per-workspace
 * concurrency cap, each its own 4xx problem.
 */
export class PreviewPool {
  private readonly pool: Piscina<PreviewTask, PreviewOutcome>;
  private readonly running = new Map<string, number>();

  constructor(blobRoot: string, private readonly limits: PreviewLimits) {
    this.pool = new Piscina({
      filename: workerFile(),
      minThreads: 0,
      maxThreads: limits.threads,
      idleTimeout: 60_000,
      atomics: 'async',
      // Queued previews wait for a thread; the deadline counts from admission.
      workerData: { blobRoot, cacheRecords: Math.max(10_000, Math.floor(500_000 / limits.threads)) },
      resourceLimits: { maxOldGenerationSizeMb: limits.threadHeapMb },
    });
  }

  /**
   * The evaluation result as JSON text, or a HubError (413, 422, 429). `ruleIds` name the rules
   * in order. When `callerGone` aborts (the client closed the request: an editor sent a newer
   * preview), the preview stops counting against the workspace's cap at once and its thread
   * stops at the next rule.
   */
  async run(workspaceId: string, input: Omit<PreviewTask, 'progress' | 'maxResponseBytes'>, ruleIds: string[], callerGone?: AbortSignal): Promise<string> {
    const { deadlineMs, maxResponseBytes, perWorkspace } = this.limits;
    const active = this.running.get(workspaceId) ?? 0;
    if (active >= perWorkspace) {
      throw new HubError(429, 'Too Many Requests', `This workspace already has ${active} preview(s) running (HUB_PREVIEW_CONCURRENCY is ${perWorkspace}); retry in a second.`, { headers: { 'Retry-After': '1' } });
    }
    this.running.set(workspaceId, active + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.running.get(workspaceId) ?? 1) - 1;
      if (left) this.running.set(workspaceId, left);
      else this.running.delete(workspaceId);
    };
    const progress = new SharedArrayBuffer(8);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), deadlineMs);
    const onGone = () => { Atomics.store(new Int32Array(progress), 1, 1); release(); };
    if (callerGone?.aborted) onGone();
    callerGone?.addEventListener('abort', onGone, { once: true });
    try {
      const outcome = await this.pool.run({ ...input, progress, maxResponseBytes }, { signal: controller.signal });
      if (outcome.kind === 'cancelled') throw new HubError(400, 'Request Aborted', 'The client closed the request before the preview ended.');
      if (outcome.kind === 'too_large') {
        throw new HubError(413, 'Content Too Large', `The preview would answer ${outcome.bytes} bytes, over the ${maxResponseBytes}-byte cap (HUB_PREVIEW_MAX_RESPONSE_BYTES): preview fewer rules, or cap payload lists.`);
      }
      if (outcome.kind === 'unreadable') throw new HubError(422, 'Unprocessable Content', `The preview could not read its data: ${outcome.message}.`);
      return outcome.json;
    } catch (err) {
      if (controller.signal.aborted) {
        const index = new Int32Array(progress)[0]!;
        const what = index >= 0 && ruleIds[index] !== undefined ? `rule "${ruleIds[index]}" (index ${index}) ran` : 'reading the preview data ran';
        throw new HubError(422, 'Unprocessable Content', `The preview was stopped: ${what} past the ${deadlineMs / 1000} s deadline (HUB_PREVIEW_DEADLINE). Narrow its select or preview on less data.`);
      }
      if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new HubError(413, 'Content Too Large', `The preview needed more than the ${this.limits.threadHeapMb} MB a preview may use: preview on less data.`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      callerGone?.removeEventListener('abort', onGone);
      release();
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
