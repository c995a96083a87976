// Image sniffing: real file signatures for the five photo types, and nothing else.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { IMAGE_SNIFF_BYTES, sniffImageType as sut } from './image-type.js';

const bytes = (...parts: Array<string | number[]>) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));
const ftyp = (major: string, ...compatible: string[]) => {
  const size = 16 + 4 * compatible.length;
  return bytes([0, 0, 0, size], 'ftyp', major, [0, 0, 0, 0], compatible.join(''), [0, 0, 0x0f, 0xd8], 'meta');
};

describe('sniffImageType', () => {
  it('recognises the heads of real files', () => {
    assert.equal(sut(bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], 'JFIF', [0])), 'image/jpeg');
    assert.equal(sut(bytes([0xff, 0xd8, 0xff, 0xe1, 0x2f, 0xfe], 'Exif', [0, 0])), 'image/jpeg');
    assert.equal(sut(bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d], 'IHDR')), 'image/png');
    assert.equal(sut(bytes('GIF89a', [0x01, 0x00, 0x01, 0x00])), 'image/gif');
    assert.equal(sut(bytes('GIF87a', [0x01, 0x00, 0x01, 0x00])), 'image/gif');
    assert.equal(sut(bytes('RIFF', [0x24, 0x1a, 0, 0], 'WEBPVP8 ')), 'image/webp');
    assert.equal(sut(ftyp('heic', 'mif1', 'heic')), 'image/heic'); // iPhone
    assert.equal(sut(ftyp('mif1', 'mif1', 'heic')), 'image/heic'); // Samsung
    assert.equal(sut(ftyp('heix', 'mif1', 'heix')), 'image/heic');
  });

  it('needs no more than IMAGE_SNIFF_BYTES', () => {
    assert.ok(ftyp('heic', 'mif1', 'heic').length <= IMAGE_SNIFF_BYTES + 8);
    assert.equal(sut(ftyp('heic', 'mif1', 'heic').subarray(0, 12)), 'image/heic');
  });

  it('refuses other formats, truncated signatures and empty input', () => {
    assert.equal(sut(ftyp('avif', 'mif1', 'avif')), null);
    assert.equal(sut(ftyp('mif1', 'mif1', 'avif', 'miaf')), null);
    assert.equal(sut(ftyp('isom', 'isom', 'mp41')), null); // an MP4 video
    assert.equal(sut(bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt ')), null);
    assert.equal(sut(bytes('%PDF-1.7')), null);
    assert.equal(sut(bytes([0x89], 'PNG', [0x0d, 0x0a])), null);
    assert.equal(sut(bytes([0xff, 0xd8])), null);
    assert.equal(sut(new Uint8Array()), null);
  });

  it('never names a type for random bytes that lack its signature', () => {
    const signatures: Record<string, (h: Buffer) => boolean> = {
      'image/jpeg': (h) => h.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])),
      'image/png': (h) => h.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
      'image/gif': (h) => /^GIF8[79]a/.test(h.toString('latin1', 0, 6)),
      'image/webp': (h) => h.toString('latin1', 0, 4) === 'RIFF' && h.toString('latin1', 8, 12) === 'WEBP',
      'image/heic': (h) => h.toString('latin1', 4, 8) === 'ftyp',
    };
    for (let i = 0; i < 5000; i++) {
      const head = randomBytes(IMAGE_SNIFF_BYTES);
      const type = sut(head);
      if (type !== null) assert.ok(signatures[type](head), `${type} claimed for ${head.toString('hex')}`);
    }
  });
});
