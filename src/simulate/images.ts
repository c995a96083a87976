// Real image bytes for simulated photos: PNGs with random pixels (valid: IHDR, zlib-compressed
// IDAT with filter bytes, CRCs), so sizes are realistic and every photo is distinct.
import { deflateSync } from 'node:zlib';
import type { Random } from './random.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/**
 * A valid RGB PNG of about `approxBytes` (random pixels barely compress, so the file is close to
 * width × height × 3).
 */
export function randomPng(random: Random, approxBytes: number): Buffer {
  const side = Math.max(1, Math.round(Math.sqrt(approxBytes / 3)));
  const row = side * 3 + 1;
  const raw = Buffer.from(random.bytes(row * side));
  for (let y = 0; y < side; y++) raw[y * row] = 0; // filter type 0 (None) for every scanline
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 1 })), chunk('IEND', new Uint8Array(0))]);
}
