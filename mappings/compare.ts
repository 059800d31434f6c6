/**
 * How structured predicates read and compare values. Every reader returns `undefined` for a
 * value it cannot interpret, and every comparison involving `undefined` is false: a missing,
 * null or malformed field never satisfies an ordering, so it cannot make a check pass by accident.
 */
import type { CompareAs } from './types.js';

/** A value ready for comparison: versions become lists of numbers, dates epoch milliseconds. */
export type Comparable = string | number | boolean | null | readonly number[];

const VERSION = /^\s*v?(\d+(?:\.\d+)*)/u;

/** "14.2.1 (23C71)" → [14, 2, 1]; undefined when the text does not start with a version. */
function parseVersion(value: unknown): number[] | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = VERSION.exec(text);
  return match?.[1] ? match[1].split('.').map(Number) : undefined;
}

/** Epoch milliseconds of an ISO-8601 date or date-time string. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = parseUtcTimestamp(value) ?? Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Two decimal digits at `index`, or -1. */
function twoDigits(text: string, index: number): number {
  const tens = text.charCodeAt(index) - 48;
  const ones = text.charCodeAt(index + 1) - 48;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil); days past a month's end roll over, as in Date.UTC. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

const [DASH, COLON, DOT, T, Z] = ['-', ':', '.', 'T', 'Z'].map((c) => c.charCodeAt(0)) as [number, number, number, number, number];

/**
 * The layout connectors emit, "2024-05-01T12:00:00Z" or "2024-05-01T12:00:00.000Z", read
 * without Date.parse, whose cost dominates age checks over large datasets. Anything else is
 * left to Date.parse; for what it accepts this gives exactly Date.parse's answer (a test
 * compares the two).
 */
function parseUtcTimestamp(text: string): number | undefined {
  const length = text.length;
  if (length !== 20 && length !== 24) return undefined;
  if (
    text.charCodeAt(4) !== DASH ||
    text.charCodeAt(7) !== DASH ||
    text.charCodeAt(10) !== T ||
    text.charCodeAt(13) !== COLON ||
    text.charCodeAt(16) !== COLON ||
    text.charCodeAt(length - 1) !== Z
  ) {
    return undefined;
  }
  const century = twoDigits(text, 0);
  const yearOfCentury = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  let millisecond = 0;
  if (length === 24) {
    const hundreds = twoDigits(text, 20);
    const ones = text.charCodeAt(22) - 48;
    if (text.charCodeAt(19) !== DOT || hundreds < 0 || ones < 0 || ones > 9) return undefined;
    millisecond = hundreds * 10 + ones;
  }
  if (century < 0 || yearOfCentury < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return undefined;
  }
  return ((daysFromCivil(century * 100 + yearOfCentury, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millisecond;
}

function parseNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

export function toComparable(value: unknown, as: CompareAs): Comparable | undefined {
  switch (as) {
    case 'number':
      return parseNumber(value);
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    case 'date':
      return parseTimestamp(value);
    case 'version':
      return parseVersion(value);
    case 'auto':
      if (value === undefined) return null; // a missing field equals null, as in JSON
      return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
  }
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/** -1, 0 or 1; undefined when the two values are not of one orderable kind. */
export function order(a: Comparable | undefined, b: Comparable | undefined): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) return compareVersions(a, b);
  return undefined;
}

/** Equality of comparables: versions by their parts ("14" equals "14.0"), everything else strictly. */
export function equal(a: Comparable | undefined, b: Comparable | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (Array.isArray(a) && Array.isArray(b)) return compareVersions(a, b) === 0;
  return a === b;
}
