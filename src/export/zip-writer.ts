// A thin streaming wrapper over yazl: lazy entries, back-pressure for the producer, errors surfaced.
import { PassThrough, Readable } from 'node:stream';
import yazl from 'yazl';

export type EntrySource = Buffer | string | (() => AsyncIterable<Uint8Array | string> | Promise<AsyncIterable<Uint8Array | string>>);

/**
 * Writes a zip to `output` entry by entry. yazl pumps entries strictly in order and opens an
 * entry's stream only when the previous one is finished, so a producer that awaits `caughtUp()`
 * after each page keeps at most one page of entries queued, however big the account is.
 */
export class ZipWriter {
  private readonly zip = new yazl.ZipFile();
  /** The zip bytes; destroyed with the error if any entry's source fails. */
  readonly output: PassThrough = this.zip.outputStream as PassThrough;
  private started: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly whenClosed: Promise<void>;

  constructor() {
    this.whenClosed = new Promise((resolve) => this.output.once('close', () => resolve()));
    this.output.once('close', () => (this.closed = true));
    this.zip.on('error', (e: unknown) => this.fail(e));
  }

  /** True once the reader has gone away or the zip has failed; a producer should stop. */
  get isClosed(): boolean {
    return this.closed || this.output.destroyed;
  }

  /** Queues one file. `path` must already be safe (see zip-paths.ts). */
  add(path: string, source: EntrySource, options: { mtime: Date; compress?: boolean }): void {
    let markStarted!: () => void;
    this.started = new Promise<void>((resolve) => (markStarted = resolve));
    this.zip.addReadStreamLazy(path, { mtime: options.mtime, compress: options.compress ?? true }, (cb) => {
      markStarted();
      Promise.resolve(typeof source === 'function' ? source() : [source])
        .then((iterable) => {
          const stream = Readable.from(iterable, { objectMode: false });
          // yazl pipes the stream without listening for its errors; without this a failing
          // source would leave the zip hanging forever.
          stream.once('error', (e) => this.fail(e));
          cb(null, stream);
        })
        .catch((e: unknown) => this.fail(e));
    });
  }

  /** Resolves when every entry added so far except the last is fully written (or the zip closed). */
  caughtUp(): Promise<void> {
    return Promise.race([this.started, this.whenClosed]);
  }

  /** Writes the central directory once all queued entries are written. */
  end(): void {
    if (!this.isClosed) this.zip.end();
  }

  /** Aborts: the reader sees `error` on `output`. */
  fail(e: unknown): void {
    if (!this.output.destroyed) this.output.destroy(e instanceof Error ? e : new Error(String(e)));
  }
}
