// Seeded, reproducible randomness. Every record is derived from (seed, stream,
// index) alone, so record 73 412 of a 100 000-user population can be produced
// without producing the 73 411 before it: that is what makes lazy, O(page)
// serving possible.

/** A 32-bit mix (the finaliser of MurmurHash3): cheap and well distributed. */
function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Turns a seed given as a number or a string into 32 bits. */
export function seedToInt(seed: number | string): number {
  if (typeof seed === 'number') return mix32(seed);
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  return mix32(h);
}

const HEX = '0123456789abcdef';

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The generator of one record: independent of every other record's. */
  static forRecord(seed: number, stream: number, index: number): Rng {
    return new Rng(mix32(seed ^ mix32(stream * 0x9e3779b1 + mix32(index + 1))));
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick() from an empty list');
    return item;
  }

  chars(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  hex(length: number): string {
    return this.chars(length, HEX);
  }

  /** An RFC 4122 version-4 shaped UUID. */
  uuid(): string {
    const variant = HEX[8 + this.int(0, 3)] ?? '8';
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${variant}${this.hex(3)}-${this.hex(12)}`;
  }
}

/**
 * Labels `total` records with exact category counts, placed at seeded random
 * positions: record i gets category k + 1 if it is among the `counts[k]`
 * records drawn for category k, else 0. Exact counts (not probabilities) let a
 * 10-record test still hold "exactly one admin without MFA". One byte per
 * record, built with a partial Fisher–Yates shuffle.
 */
export function assignCategories(total: number, counts: readonly number[], rng: Rng): Uint8Array {
  const wanted = counts.reduce((sum, n) => sum + n, 0);
  if (counts.some((n) => !Number.isInteger(n) || n < 0)) throw new RangeError(`category counts must be non-negative integers: ${counts.join(', ')}`);
  if (wanted > total) throw new RangeError(`category counts add up to ${wanted}, more than the ${total} records`);
  if (counts.length > 255) throw new RangeError('at most 255 categories');
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  const labels = new Uint8Array(total);
  let position = 0;
  counts.forEach((count, category) => {
    for (let n = 0; n < count; n++, position++) {
      const swapWith = rng.int(position, total - 1);
      const chosen = order[swapWith] as number;
      order[swapWith] = order[position] as number;
      order[position] = chosen;
      labels[chosen] = category + 1;
    }
  });
  return labels;
}
