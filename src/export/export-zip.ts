// Export: one user's live data as a streaming zip of standard files plus exact data and a manifest.
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { joinICalendar, joinVCards } from '../core/content/split-import.js';
import { digestAdd, EMPTY_DIGEST } from '../core/digest.js';
import { FOLDER_TYPE } from '../core/content/photo-content.js';
import type { Collection, StoredItem, User } from '../core/model.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { RecordStore } from '../core/ports/record-store.js';
import {
  type DataLine,
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  type Manifest,
  type ManifestCollection,
  type ManifestItem,
} from './export-format.js';
import { safeSegment, UniqueNames } from './zip-paths.js';
import { ZipWriter } from './zip-writer.js';

/** Items fetched per `listItems` call: bounds what the export holds in memory. */
export const EXPORT_PAGE = 200;

export interface ExportOptions {
  /** Items per page (tests use small pages to exercise paging). */
  pageSize?: number;
  /** Export time; defaults to now. */
  now?: Date;
}

/**
 * Streams a zip of all of `user`'s live collections and items (types in export-format.ts;
 * `<collection>` is the collection id made safe as a file name):
 *
 *     manifest.json                      format, time, user, server, collections, items
 *     contacts/<collection>.vcf          every contact, one vCard after another
 *     calendar/<collection>.ics          every event in one VCALENDAR
 *     tasks/<collection>.ics             every task in one VCALENDAR
 *     notes/<collection>/<title>.md      "# title", blank line, body
 *     photos/<collection>/<name>         the original bytes, plus <name>.json with the metadata;
 *                                        files a WebDAV client put in folders under their folders
 *     scores/<collection>.json           an array of { id, game, score, achievedAt, player? }
 *     data/<collection>/<n>.jsonl        the exact stored items, which import reads back
 *
 * Items are read a page at a time and photo bytes are streamed from the blob store, so memory
 * stays bounded by one page plus the manifest's per-item lines. The zip is written lazily: it
 * advances as fast as the reader consumes it. A failing read destroys the stream with the error.
 */
export function writeExport(store: RecordStore, blobs: BlobStore, user: User, options: ExportOptions = {}): NodeJS.ReadableStream {
  const zip = new ZipWriter();
  new Exporter(store, blobs, user, zip, options.pageSize ?? EXPORT_PAGE, options.now ?? new Date())
    .run()
    .then(
      () => zip.end(),
      (e: unknown) => zip.fail(e),
    );
  return zip.output;
}

/** `writeExport` piped into `destination`; resolves when the whole zip is written. */
export async function exportTo(store: RecordStore, blobs: BlobStore, user: User, destination: Writable, options: ExportOptions = {}): Promise<void> {
  await pipeline(writeExport(store, blobs, user, options), destination);
}

/** The directory each kind's files go in. */
const KIND_DIR = { contacts: 'contacts', calendar: 'calendar', tasks: 'tasks', notes: 'notes', photos: 'photos', scores: 'scores' } as const;

class Exporter {
  private readonly manifest: Manifest;
  private readonly collectionDirs = new UniqueNames();

  constructor(
    private readonly store: RecordStore,
    private readonly blobs: BlobStore,
    private readonly user: User,
    private readonly zip: ZipWriter,
    private readonly pageSize: number,
    private readonly now: Date,
  ) {
    this.manifest = {
      format: EXPORT_FORMAT,
      formatVersion: EXPORT_FORMAT_VERSION,
      exportedAt: now.toISOString(),
      user: user.name,
      server: { id: '', epoch: 0 },
      collections: [],
      items: [],
      problems: [],
    };
  }

  async run(): Promise<void> {
    const server = await this.store.identity();
    this.manifest.server = { id: server.id, epoch: server.epoch };
    for (const col of await this.store.listCollections(this.user.id)) {
      if (this.zip.isClosed) return;
      await this.collection(col);
    }
    const m = this.manifest;
    this.zip.add('manifest.json', () => manifestText(m), { mtime: this.now });
  }

  private async collection(col: Collection): Promise<void> {
    const dir = this.collectionDirs.take(safeSegment(col.id));
    const entry: ManifestCollection = { id: col.id, kind: col.kind, name: col.name, count: 0, digest: EMPTY_DIGEST, dir, files: [], data: [] };
    this.manifest.collections.push(entry);
    const top = KIND_DIR[col.kind];
    switch (col.kind) {
      case 'contacts':
      case 'calendar':
      case 'tasks':
      case 'scores': {
        // One file for the whole collection: the exact data first (that pass is the one the
        // manifest describes), then the human-readable file in a second paging pass.
        const ext = col.kind === 'contacts' ? '.vcf' : col.kind === 'scores' ? '.json' : '.ics';
        const path = `${top}/${dir}${ext}`;
        await this.eachPage(col, entry, () => path, async () => {});
        entry.files.push(path);
        const source =
          col.kind === 'contacts' ? () => this.vcards(col) : col.kind === 'scores' ? () => this.scores(col) : () => this.icalendar(col);
        this.zip.add(path, source, { mtime: this.mtime(col) });
        await this.zip.caughtUp();
        return;
      }
      case 'notes': {
        const names = new UniqueNames();
        entry.files.push(`${top}/${dir}/`);
        const paths = new Map<string, string>();
        await this.eachPage(
          col,
          entry,
          (item) => paths.get(item.id)!,
          async (page) => {
            paths.clear();
            for (const item of page) {
              const note = JSON.parse(item.content!) as { title: string; body: string };
              const path = `${top}/${dir}/${names.take(safeSegment(note.title, safeSegment(item.id)) + '.md')}`;
              paths.set(item.id, path);
              this.zip.add(path, noteMarkdown(note), { mtime: new Date(item.modified) });
            }
          },
        );
        return;
      }
      case 'photos': {
        // One set of taken names per folder (WebDAV clients nest folders in a photo collection).
        const folders = new Map<string, UniqueNames>();
        const namesIn = (folder: string) => folders.get(folder) ?? folders.set(folder, new UniqueNames()).get(folder)!;
        entry.files.push(`${top}/${dir}/`);
        const paths = new Map<string, string>();
        await this.eachPage(
          col,
          entry,
          (item) => paths.get(item.id)!,
          async (page) => {
            paths.clear();
            for (const item of page) paths.set(item.id, await this.photo(col, `${top}/${dir}`, namesIn, item));
          },
        );
        return;
      }
    }
  }

  /**
   * Pages through the collection's live items: `beforeData` may queue per-item entries, then the
   * page's exact data file is queued and the producer waits until the zip has caught up.
   */
  private async eachPage(
    col: Collection,
    entry: ManifestCollection,
    pathOf: (item: StoredItem) => string,
    beforeData: (page: StoredItem[]) => Promise<void>,
  ): Promise<void> {
    let afterId: string | undefined;
    for (let n = 1; !this.zip.isClosed; n++) {
      const page = await this.store.listItems(this.user.id, col.id, { afterId, limit: this.pageSize });
      if (page.length === 0) break;
      await beforeData(page);
      const dataPath = `data/${entry.dir}/${String(n).padStart(5, '0')}.jsonl`;
      const lines: string[] = [];
      for (const item of page) {
        const path = pathOf(item);
        const line: DataLine = { id: item.id, version: item.version, hash: item.hash, modified: item.modified, content: item.content!, path };
        lines.push(JSON.stringify(line) + '\n');
        const row: ManifestItem = { collection: col.id, id: item.id, version: item.version, hash: item.hash, path, data: dataPath };
        this.manifest.items.push(row);
        entry.count++;
        entry.digest = digestAdd(entry.digest, item.id, item.hash);
      }
      entry.data.push(dataPath);
      this.zip.add(dataPath, lines.join(''), { mtime: this.now });
      await this.zip.caughtUp();
      if (page.length < this.pageSize) break;
      afterId = page[page.length - 1].id;
    }
  }

  /**
   * Queues the photo's bytes and sidecar under its folder (`path`, from WebDAV); returns the
   * bytes' path. A folder entry has no bytes: its path (ending in `/`) is where its files are.
   */
  private async photo(col: Collection, top: string, namesIn: (folder: string) => UniqueNames, item: StoredItem): Promise<string> {
    const meta = JSON.parse(item.content!) as { blob: string; name: string; size: number; type: string; path?: string };
    const folder = meta.path ? `${top}/${meta.path.split('/').map((s) => safeSegment(s)).join('/')}` : top;
    const names = namesIn(folder);
    if (meta.type === FOLDER_TYPE) return `${folder}/${names.take(safeSegment(meta.name, safeSegment(item.id)))}/`;
    let name = names.take(safeSegment(meta.name, safeSegment(item.id)));
    while (names.has(name + '.json')) name = names.take(safeSegment(meta.name, safeSegment(item.id)));
    names.reserve(name + '.json');
    const path = `${folder}/${name}`;
    const mtime = new Date(item.modified);
    const sidecar = { collection: col.id, id: item.id, version: item.version, hash: item.hash, modified: item.modified, ...meta };
    if ((await this.blobs.stat(meta.blob)) === null) {
      this.manifest.problems.push({ collection: col.id, item: item.id, blob: meta.blob, problem: 'the photo bytes are missing from the blob store' });
    } else {
      const problems = this.manifest.problems;
      const blobs = this.blobs;
      // Photos are already compressed; deflating them again costs time and saves nothing.
      this.zip.add(path, () => checkedBlob(blobs, meta.blob, (problem) => problems.push({ collection: col.id, item: item.id, blob: meta.blob, problem })), {
        mtime,
        compress: false,
      });
    }
    this.zip.add(`${path}.json`, JSON.stringify(sidecar, null, 2) + '\n', { mtime });
    return path;
  }

  private mtime(col: Collection): Date {
    return col.lastChangeAt ? new Date(col.lastChangeAt) : this.now;
  }

  /** Live items of a collection, page by page; used by the one-file-per-collection writers. */
  private async *pages(col: Collection): AsyncIterable<StoredItem[]> {
    let afterId: string | undefined;
    for (;;) {
      const page = await this.store.listItems(this.user.id, col.id, { afterId, limit: this.pageSize });
      if (page.length) yield page;
      if (page.length < this.pageSize) return;
      afterId = page[page.length - 1].id;
    }
  }

  private async *vcards(col: Collection): AsyncIterable<string> {
    for await (const page of this.pages(col)) yield joinVCards(page.map((i) => i.content!));
  }

  /**
   * One VCALENDAR for the whole collection, streamed: each page is joined with `joinICalendar`,
   * the first page's header is kept, and a VTIMEZONE already written by an earlier page is
   * skipped (RFC 5545 §3.6.5: one VTIMEZONE per TZID in an iCalendar object).
   */
  private async *icalendar(col: Collection): AsyncIterable<string> {
    const zones = new Set<string>();
    let first = true;
    for await (const page of this.pages(col)) {
      const { header, blocks } = calendarBlocks(joinICalendar(page.map((i) => i.content!)));
      if (first) yield header;
      first = false;
      for (const b of blocks) {
        if (b.tzid !== null) {
          if (zones.has(b.tzid)) continue;
          zones.add(b.tzid);
        }
        yield b.text;
      }
    }
    if (first) yield joinICalendar([]).replace(/END:VCALENDAR\r\n$/, '');
    yield 'END:VCALENDAR\r\n';
  }

  private async *scores(col: Collection): AsyncIterable<string> {
    let first = true;
    yield '[';
    for await (const page of this.pages(col)) {
      for (const item of page) {
        yield (first ? '\n  ' : ',\n  ') + JSON.stringify({ id: item.id, ...(JSON.parse(item.content!) as object) });
        first = false;
      }
    }
    yield first ? ']\n' : '\n]\n';
  }
}

/** A note as Markdown: its title as a first-level heading, a blank line, then the body as written. */
export function noteMarkdown(note: { title: string; body: string }): string {
  const title = note.title.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return `# ${title}\n\n${note.body}${note.body.endsWith('\n') || note.body === '' ? '' : '\n'}`;
}

/**
 * Splits a joined VCALENDAR into its header (BEGIN:VCALENDAR and its properties) and its
 * top-level components, each with the TZID when it is a VTIMEZONE.
 */
export function calendarBlocks(text: string): { header: string; blocks: Array<{ tzid: string | null; text: string }> } {
  const lines = text.split(/(?<=\r?\n)/);
  let header = '';
  const blocks: Array<{ tzid: string | null; text: string }> = [];
  let depth = 0;
  let current: string[] = [];
  for (const line of lines) {
    const bare = line.replace(/\r?\n$/, '');
    if (/^BEGIN:/i.test(bare)) depth++;
    if (depth <= 1 && /^END:VCALENDAR$/i.test(bare)) break;
    if (depth <= 1 && current.length === 0) header += line;
    else current.push(line);
    if (/^END:/i.test(bare)) {
      depth--;
      if (depth === 1) {
        const block = current.join('');
        const isZone = /^BEGIN:VTIMEZONE\r?\n/i.test(block);
        const tzid = isZone ? (/^TZID:(.*)$/im.exec(block.replace(/\r?\n[ \t]/g, ''))?.[1]?.trim() ?? null) : null;
        blocks.push({ tzid, text: block });
        current = [];
      }
    }
  }
  return { header, blocks };
}

/** Streams a blob, reporting (not throwing) when its bytes do not hash to its name. */
async function* checkedBlob(blobs: BlobStore, hash: string, report: (problem: string) => void): AsyncIterable<Uint8Array> {
  const body = await blobs.get(hash);
  if (!body) {
    report('the photo bytes disappeared from the blob store during the export');
    return;
  }
  const h = createHash('sha256');
  for await (const chunk of body) {
    h.update(chunk);
    yield chunk;
  }
  const actual = 'sha256:' + h.digest('hex');
  if (actual !== hash) report(`the exported bytes hash to ${actual}: the stored blob is damaged`);
}

/** manifest.json, streamed so a large item list is not built as one string. */
async function* manifestText(m: Manifest): AsyncIterable<string> {
  const { items, ...head } = m;
  const headText = JSON.stringify(head, null, 2);
  // Put "items" last: everything before it is small and readable at the top of the file.
  yield headText.slice(0, -2) + ',\n  "items": [';
  for (let i = 0; i < items.length; i++) yield (i ? ',\n    ' : '\n    ') + JSON.stringify(items[i]);
  yield items.length ? '\n  ]\n}\n' : ']\n}\n';
}
