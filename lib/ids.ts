import { randomFillSync } from 'node:crypto';

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

// Random bytes drawn from the system a page at a time: one call per 409 new milliseconds
// instead of one per id (ids are made on the delivery path, several per outcome).
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
function random80(): bigint {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const value = BigInt('0x' + pool.toString('hex', poolOffset, poolOffset + 10));
  poolOffset += 10;
  return value;
}

/** A time-ordered, unique id with a type prefix, e.g. `key_01J9Z…`. Monotonic within one thread (the embedded database's thread, which runs store procedures, keeps its own sequence). */
export function newId(prefix: string, now = Date.now()): string {
  let random: bigint;
  if (now <= lastTime) {
    now = lastTime;
    random = lastRandom + 1n;
  } else {
    random = random80();
  }
  lastTime = now;
  lastRandom = random;
  return `${prefix}_${encode(BigInt(now), 10)}${encode(random, 16)}`.toLowerCase();
}
