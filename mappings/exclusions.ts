/**
 * Exclusions mute records by id, each with a reason and an optional expiry. A muted record
 * is taken out of the records under test (for every assertion and payload entry) and listed
 * in the payload with its reason; an expired exclusion mutes nothing and is listed too, so an
 * auditor sees both what was waived and what no longer is.
 */
import { RuleSyntaxError } from './errors.js';
import type { PropertyReader } from './jsonpath/property-access.js';
import type { Exclusion } from './types.js';

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/u;

interface ActiveWindow {
  exclusion: Exclusion;
  /** Epoch ms from which the exclusion no longer applies; undefined = never expires. */
  expiresAtMs: number | undefined;
}

export interface MutedRecord {
  id: string | number;
  label?: unknown;
  reason: string;
  expires?: string;
}

export interface Partition {
  underTest: unknown[];
  muted: MutedRecord[];
  expired: Exclusion[];
}

/** The id by which exclusions name a record: strings and numbers compare by their text. */
function recordKey(id: unknown): string | undefined {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? String(id) : undefined;
}

export interface CompiledExclusions {
  partition(records: unknown[], nowMs: number, readId: PropertyReader, readLabel: PropertyReader | undefined): Partition;
}

export function compileExclusions(exclusions: readonly Exclusion[], pointer: string): CompiledExclusions {
  const byKey = new Map<string, ActiveWindow>();
  exclusions.forEach((exclusion, i) => {
    const key = String(exclusion.id);
    if (byKey.has(key)) throw new RuleSyntaxError(`duplicate exclusion for id "${key}"`, `${pointer}/${i}/id`);
    byKey.set(key, { exclusion, expiresAtMs: expiryOf(exclusion.expires, `${pointer}/${i}/expires`) });
  });

  return {
    partition(records, nowMs, readId, readLabel) {
      const expired = exclusions.filter((exclusion) => !isActive(byKey.get(String(exclusion.id)), nowMs));
      if (expired.length === exclusions.length) return { underTest: records, muted: [], expired };
      const underTest: unknown[] = [];
      const muted: MutedRecord[] = [];
      for (const record of records) {
        const id = readId(record);
        const key = recordKey(id);
        const window = key === undefined ? undefined : byKey.get(key);
        if (!window || !isActive(window, nowMs)) {
          underTest.push(record);
          continue;
        }
        const entry: MutedRecord = { id: id as string | number, reason: window.exclusion.reason };
        if (readLabel) entry.label = readLabel(record) ?? null;
        if (window.exclusion.expires !== undefined) entry.expires = window.exclusion.expires;
        muted.push(entry);
      }
      return { underTest, muted, expired };
    },
  };
}

function isActive(window: ActiveWindow | undefined, nowMs: number): boolean {
  return window !== undefined && (window.expiresAtMs === undefined || nowMs < window.expiresAtMs);
}

/** A date mutes through the whole of that day (UTC); a date-time mutes until that instant. */
function expiryOf(expires: string | undefined, pointer: string): number | undefined {
  if (expires === undefined) return undefined;
  const ms = Date.parse(expires);
  const dateOnly = DATE_ONLY.test(expires);
  // Date.parse rolls "2025-02-30" over into March; a calendar date must name a real day.
  if (Number.isNaN(ms) || (dateOnly && new Date(ms).toISOString().slice(0, 10) !== expires)) {
    throw new RuleSyntaxError(`"${expires}" is not a valid date`, pointer);
  }
  return dateOnly ? ms + DAY_MS : ms;
}
