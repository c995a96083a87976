// Reading import zips safely: every name checked before anything is used, total size capped, entries read on demand.
import { Transform, type Readable } from 'node:stream';
import yauzl from 'yauzl';
import { fail, KeepsakeError } from '../core/errors.js';
import { unsafeZipPath } from './zip-paths.js';

/**
 * An opened zip whose whole central directory has been checked: no unsafe names, no duplicate
 * names, and a declared uncompressed total within the cap. Reads are counted against the cap
 * too (yauzl also checks each entry's real size against its declared one), so a zip bomb
 * fails with `body_too_large` after at most `maxBytes` decompressed bytes.
 */
export class SafeZip {
  private read = 0;

  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly entries: Map<string, yauzl.Entry>,
    private readonly maxBytes: number,
  ) {}

  static async open(source: { bytes?: Buffer; path?: string }, maxBytes: number): Promise<SafeZip> {
    const options: yauzl.Options = { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: true };
    let zip: yauzl.ZipFile;
    try {
      zip = source.bytes ? await yauzl.fromBufferPromise(source.bytes, options) : await yauzl.openPromise(source.path!, options);
    } catch (e) {
      throw asZipError(e);
    }
    const entries = new Map<string, yauzl.Entry>();
    let declared = 0;
    try {
      for await (const entry of zip.eachEntry()) {
        const why = unsafeZipPath(entry.fileName);
        if (why) fail('invalid_request', `the zip holds an unsafe entry name "${printable(entry.fileName)}" (${why}); nothing was imported`);
        if (entries.has(entry.fileName)) fail('invalid_request', `the zip holds "${printable(entry.fileName)}" twice; nothing was imported`);
        if (entry.isEncrypted()) fail('invalid_request', `the zip entry "${printable(entry.fileName)}" is encrypted; nothing was imported`);
        declared += entry.uncompressedSize;
        if (declared > maxBytes) fail('body_too_large', `the zip unpacks to more than ${maxBytes} bytes (the import limit); nothing was imported`, { limit: maxBytes });
        if (!entry.fileName.endsWith('/')) entries.set(entry.fileName, entry);
      }
    } catch (e) {
      zip.close();
      throw asZipError(e);
    }
    return new SafeZip(zip, entries, maxBytes);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's bytes as a stream; fails with `invalid_request` for a missing entry, `body_too_large` past the cap. */
  async stream(name: string): Promise<Readable> {
    const entry = this.entries.get(name);
    if (!entry) fail('invalid_request', `the zip has no entry "${printable(name)}"`);
    let stream: Readable;
    try {
      stream = await this.zip.openReadStreamPromise(entry);
    } catch (e) {
      throw asZipError(e);
    }
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.read += chunk.length;
        if (this.read > this.maxBytes) {
          done(new KeepsakeError('body_too_large', `the zip unpacks to more than ${this.maxBytes} bytes (the import limit)`, { details: { limit: this.maxBytes } }));
        } else done(null, chunk);
      },
    });
    stream.once('error', (e) => counter.destroy(asZipError(e)));
    return stream.pipe(counter);
  }

  /** The whole entry in memory; for manifest and data files, which are small by construction. */
  async buffer(name: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of await this.stream(name)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  close(): void {
    this.zip.close();
  }
}

function printable(name: string): string {
  return name.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).slice(0, 200);
}

/** yauzl's own errors (bad format, unsafe names it refuses first, size mismatches) as KeepsakeErrors. */
function asZipError(e: unknown): KeepsakeError {
  if (e instanceof KeepsakeError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/invalid relative path|absolute path|invalid characters in fileName/.test(message)) {
    return new KeepsakeError('invalid_request', `the zip holds an unsafe entry name (${printable(message)}); nothing was imported`, { cause: e });
  }
  return new KeepsakeError('invalid_request', `the file is not a readable zip: ${message}`, { cause: e });
}
