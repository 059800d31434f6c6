import { deflateSync } from 'node:zlib';
import { BRAND_COLOR } from './properties.js';

/** The connector's icon: 230×230 pixels, as Power Automate asks for, drawn here (no binary in the repository). */
export const ICON_SIZE = 230;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** Distance from (px, py) to the segment (ax, ay)–(bx, by). */
function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** A shield: straight sides from the top, then curving to a point at the bottom. */
function inShield(x: number, y: number): boolean {
  const cx = ICON_SIZE / 2;
  const top = 38;
  const shoulder = 112;
  const bottom = 196;
  const half = 72;
  if (y < top || y > bottom) return false;
  if (y <= shoulder) return Math.abs(x - cx) <= half;
  const t = (y - shoulder) / (bottom - shoulder);
  return Math.abs(x - cx) <= half * Math.sqrt(1 - t * t);
}

/** A check mark across the shield. */
function inCheck(x: number, y: number): boolean {
  const width = 11;
  return segmentDistance(x, y, 76, 118, 103, 146) <= width || segmentDistance(x, y, 103, 146, 156, 88) <= width;
}

/**
 * A white shield with a check mark in the brand colour, on the brand colour, antialiased by
 * 4×4 supersampling; an RGB PNG written by hand (IHDR, one deflated IDAT, IEND). The same
 * bytes every time.
 */
export function buildIcon(): Buffer {
  const background = rgb(BRAND_COLOR);
  const white: [number, number, number] = [255, 255, 255];
  const rowBytes = 1 + ICON_SIZE * 3;
  const raw = Buffer.alloc(rowBytes * ICON_SIZE);
  const samples = 4;
  for (let y = 0; y < ICON_SIZE; y++) {
    raw[y * rowBytes] = 0; // filter: none
    for (let x = 0; x < ICON_SIZE; x++) {
      let covered = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const px = x + (sx + 0.5) / samples;
          const py = y + (sy + 0.5) / samples;
          if (inShield(px, py) && !inCheck(px, py)) covered++;
        }
      }
      const alpha = covered / (samples * samples);
      for (let c = 0; c < 3; c++) raw[y * rowBytes + 1 + x * 3 + c] = Math.round(background[c]! * (1 - alpha) + white[c]! * alpha);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(ICON_SIZE, 0);
  header.writeUInt32BE(ICON_SIZE, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  header[10] = 0; // compression
  header[11] = 0; // filter
  header[12] = 0; // no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
