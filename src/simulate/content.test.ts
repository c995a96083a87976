// Simulated content is valid for the server, and its client-side hash equals the server's.
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { contentHash, webCryptoSha256 } from '../client/index.js';
import { canonicalizeContent } from '../core/content/validate-content.js';
import { sniffImageType } from '../core/content/image-type.js';
import { contentFor } from './content.js';
import { randomPng } from './images.js';
import { Random } from './random.js';

const LIMITS = { maxTextBytes: 1 << 20, maxBlobBytes: 50 << 20 };

describe('simulated content', () => {
  it('every kind passes the server validation, with equal hashes on both sides', async () => {
    const random = new Random(42);
    for (const kind of ['contacts', 'calendar', 'tasks', 'notes', 'scores'] as const) {
      for (let i = 0; i < 40; i++) {
        const id = `${kind}-${i}`;
        const content = contentFor(kind, random, id, i);
        const server = canonicalizeContent(kind, id, content, LIMITS);
        assert.equal(await contentHash(content, webCryptoSha256), server.hash, `${kind} ${i}`);
      }
    }
  });

  it('photos are valid PNGs of the requested size with random pixels', () => {
    const random = new Random(7);
    const png = randomPng(random, 300_000);
    assert.equal(sniffImageType(png), 'image/png');
    assert.ok(png.length > 280_000 && png.length < 320_000, String(png.length));
    const side = png.readUInt32BE(16);
    const idatLen = png.readUInt32BE(33);
    assert.equal(png.toString('ascii', 37, 41), 'IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    assert.equal(raw.length, side * (side * 3 + 1));
    assert.notDeepEqual(randomPng(random, 1000), randomPng(random, 1000));
  });
});
