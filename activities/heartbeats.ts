import { Context } from '@temporalio/activity';

/**
 * Runs `fn` with a heartbeat every 2 s, so that a worker that dies in the middle of a long
 * request is noticed within the activity's heartbeat timeout.
 */
export async function withHeartbeats<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const alive = setInterval(() => ctx.heartbeat(), 2_000);
  try {
    return await fn();
  } finally {
    clearInterval(alive);
  }
}
