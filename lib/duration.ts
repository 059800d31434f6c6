const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "250ms", "5s", "30m", "2h", "5d" (or a bare number of milliseconds) as milliseconds; null if malformed. */
export function parseDuration(raw: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(raw);
  if (!match) return null;
  const value = Number(match[1]) * UNITS[match[2] ?? 'ms']!;
  return Number.isFinite(value) ? Math.round(value) : null;
}

/** A list such as "5s,5m,30m" as milliseconds; null if any entry is malformed. */
export function parseDurationList(raw: string): number[] | null {
  const parts = raw.split(',').map((p) => parseDuration(p));
  return parts.every((p): p is number => p !== null) ? parts : null;
}
