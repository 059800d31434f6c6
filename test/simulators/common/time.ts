export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** The data's reference time: given, or the start of the current UTC day so a day's runs produce the same data. */
export function referenceTime(now: Date | number | undefined): number {
  if (now !== undefined) return typeof now === 'number' ? now : now.getTime();
  const current = Date.now();
  return current - (current % DAY_MS);
}

const dayPrefixes = new Map<number, string>();
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * `Date#toISOString()`, several times faster: pages of 200 users carry
 * 1 200 timestamps and toISOString was most of the cost of serving them.
 * The `YYYY-MM-DDT` prefix is cached per day; the time of day is arithmetic.
 */
export function iso(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size > 100_000) dayPrefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  const ofDay = ms - day * DAY_MS;
  const millis = ofDay % 1000;
  const seconds = Math.floor(ofDay / 1000);
  const time = `${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}`;
  return `${prefix}${time}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}
