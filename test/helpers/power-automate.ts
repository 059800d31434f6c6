import type { CallResult } from './hub.js';
import { caller } from './hub.js';

/**
 * A client that behaves as Power Automate's (and Logic Apps') HTTP action does with the
 * asynchronous pattern: after a 202 it follows Location, waits Retry-After between polls,
 * sends NO credentials while polling, and stops at the first non-202.
 */
export async function pollLikePowerAutomate(trigger: CallResult, options: { maxPolls?: number; maxWaitSeconds?: number } = {}): Promise<{ final: CallResult; polls: CallResult[]; waitedMs: number[] }> {
  if (trigger.status !== 202) throw new Error(`expected 202 from the trigger, got ${trigger.status}`);
  const polls: CallResult[] = [];
  const waitedMs: number[] = [];
  let current = trigger;
  for (let i = 0; i < (options.maxPolls ?? 60); i++) {
    const location = current.headers.get('location');
    if (!location) throw new Error('a 202 without Location');
    if (!/^https?:\/\//.test(location)) throw new Error(`Location must be absolute, got ${location}`);
    const wait = Math.min(Number(current.headers.get('retry-after') ?? 1), options.maxWaitSeconds ?? 60) * 1000;
    waitedMs.push(wait);
    await new Promise((r) => setTimeout(r, wait));
    current = await caller('', null)('GET', location);
    polls.push(current);
    if (current.status !== 202) return { final: current, polls, waitedMs };
  }
  throw new Error('the run did not finish within the polls allowed');
}
