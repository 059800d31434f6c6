import { randomBytes } from 'node:crypto';

// Crockford base32, as ULID uses: ids sort by creation time, which keyset pagination relies on.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encode(value: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

let lastTime = 0;
let lastRandom = 0n;

/** A time-ordered, unique id with a type prefix, e.g. `key_01J9Z…`. Monotonic within one thread (the embedded database's thread, which runs store procedures, keeps its own sequence). */
export function newId(prefix: string, now = Date.now()): string {
  let random: bigint;
  if (now <= lastTime) {
    now = lastTime;
    random = lastRandom + 1n;
  } else {
    random = BigInt('0x' + randomBytes(10).toString('hex'));
  }
  lastTime = now;
  lastRandom = random;
  return `${prefix}_${encode(BigInt(now), 10)}${encode(random, 16)}`.toLowerCase();
}
