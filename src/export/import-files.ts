// Import: .vcf, .ics and Keepsake export zips into a user's collections, through SyncService.push.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { parseIcalText, firstValueText } from '../core/content/parse-ical-text.js';
import { splitICalendar, splitVCards } from '../core/content/split-import.js';
import { decodeContent, type ContentLimits } from '../core/content/validate-content.js';
import { fail, KeepsakeError } from '../core/errors.js';
import { contentHash, isContentHash } from '../core/hash.js';
import { checkId } from '../core/ids.js';
import { isKind } from '../core/kinds.js';
import type { Kind, User } from '../core/model.js';
import type { RecordStore } from '../core/ports/record-store.js';
import type { PhotoBlobs } from '../core/sync/photo-blobs.js';
import { FOLDER_TYPE, OTHER_FILE_TYPE } from '../core/content/photo-content.js';
import { DEFAULT_SYNC_LIMITS, type SyncService } from '../core/sync/sync-service.js';
import { type DataLine, EXPORT_FORMAT, EXPORT_FORMAT_VERSION } from './export-format.js';
import { emptyReport, ImportBatch, type ImportProgress, type ImportReport } from './import-batch.js';
import { SafeZip } from './zip-reader.js';

export type { ImportProgress, ImportRejection, ImportReport } from './import-batch.js';

/** A file to import: its name (the extension picks the format) and either its bytes or a path to it. */
export interface ImportFile {
  name: string;
  bytes?: Buffer;
  path?: string;
}

export interface ImportOptions {
  /** Collection for contacts from .vcf files (default `contacts`). */
  contactsCollection?: string;
  /** Collection for events from .ics files (default `calendar`). */
  calendarCollection?: string;
  /** Collection for tasks from .ics files (default `tasks`). */
  tasksCollection?: string;
  /** Must match the SyncService's limits, so an item is judged the same way here and there. */
  limits?: ContentLimits;
  /** Largest .vcf/.ics file read, in bytes (default 256 MiB). */
  maxTextFileBytes?: number;
  /** Most bytes a zip may unpack to, photos included (default 64 GiB): the zip-bomb guard. */
  maxUncompressedBytes?: number;
}

const DEFAULT_MAX_TEXT_FILE = 256 * 1024 * 1024;
const DEFAULT_MAX_UNCOMPRESSED = 64 * 1024 * 1024 * 1024;

/**
 * Imports files one after another and reports what happened to every item. A file that cannot
 * be read as a whole (unknown type, malformed .vcf/.ics, unsafe or oversized zip) is refused
 * before anything from it is stored and appears in `rejected` with `id: null`; other files go on.
 *
 * - `.vcf`: every vCard into the contacts collection. A vCard without UID gets one derived
 *   from its text (so importing the same file again finds it).
 * - `.ics`: events into the calendar collection, tasks into the tasks collection, one item per
 *   UID (a recurring event and its exceptions stay one item).
 * - `.zip` (a Keepsake export): every collection back under its own id, created with its kind
 *   and name when missing; photo bytes re-uploaded through `photos.upload`; items from the
 *   exact data files, so hashes and collection digests come out identical.
 *
 * An item whose id exists with the same content is `unchanged`; with other content it becomes
 * a new version on top of the current one, which stays as a revision.
 */
export async function importFiles(
  sync: SyncService,
  photos: PhotoBlobs,
  store: RecordStore,
  user: User,
  files: ImportFile[],
  onProgress?: (p: ImportProgress) => void,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const report = emptyReport();
  const ctx: Context = { sync, photos, store, user, report, onProgress, options, limits: options.limits ?? DEFAULT_SYNC_LIMITS };
  for (const file of files) {
    try {
      const lower = file.name.toLowerCase();
      if (lower.endsWith('.vcf') || lower.endsWith('.vcard')) await importVCardFile(ctx, file);
      else if (lower.endsWith('.ics') || lower.endsWith('.ical')) await importICalendarFile(ctx, file);
      else if (lower.endsWith('.zip')) await importZip(ctx, file);
      else fail('invalid_request', `cannot import "${file.name}": expected a .vcf, .ics or Keepsake export .zip`);
    } catch (e) {
      if (!(e instanceof KeepsakeError)) throw e;
      report.rejected.push({ file: file.name, id: null, code: e.code, message: e.message });
    }
  }
  return report;
}

interface Context {
  sync: SyncService;
  photos: PhotoBlobs;
  store: RecordStore;
  user: User;
  report: ImportReport;
  onProgress?: (p: ImportProgress) => void;
  options: ImportOptions;
  limits: ContentLimits;
}

function batchFor(ctx: Context, file: ImportFile, fileHash: string): ImportBatch {
  return new ImportBatch(ctx.sync, ctx.store, ctx.user, file.name, fileHash, ctx.limits, ctx.report, ctx.onProgress);
}

/** The file's text, refusing files past the limit before reading them. */
async function readText(ctx: Context, file: ImportFile): Promise<{ text: string; hash: string }> {
  const max = ctx.options.maxTextFileBytes ?? DEFAULT_MAX_TEXT_FILE;
  if (!file.bytes && !file.path) fail('invalid_request', `"${file.name}" has neither bytes nor a path`);
  const size = file.bytes ? file.bytes.length : (await stat(file.path!)).size;
  if (size > max) fail('body_too_large', `"${file.name}" is ${size} bytes; the import limit for one .vcf/.ics is ${max}`, { limit: max });
  const bytes = file.bytes ?? (await readFile(file.path!));
  return { text: bytes.toString('utf8').replace(/^\uFEFF/, ''), hash: contentHash(bytes) };
}

/** The live collection `id` of `kind`, or a clear error. */
async function targetCollection(ctx: Context, id: string, kind: Kind): Promise<string> {
  const col = await ctx.store.getCollection(ctx.user.id, id);
  if (!col || col.deletedAt) fail('collection_not_found', `no collection "${id}" to import ${kind} into`, { collection: id });
  if (col.kind !== kind) fail('invalid_request', `collection "${id}" holds ${col.kind}, not ${kind}`, { collection: id });
  return col.id;
}

async function importVCardFile(ctx: Context, file: ImportFile): Promise<void> {
  const { text, hash } = await readText(ctx, file);
  const cards = splitVCards(text);
  const collection = await targetCollection(ctx, ctx.options.contactsCollection ?? 'contacts', 'contacts');
  const batch = batchFor(ctx, file, hash);
  for (const [n, card] of cards.entries()) {
    let id: string;
    let content = card;
    try {
      const uid = firstValueText(parseIcalText(card, 'invalid_vcard', `vCard ${n + 1}`).components[0], 'uid');
      if (uid === null || uid === '') {
        id = derivedUid(card);
        content = withUid(card, id);
      } else id = checkId(uid, `vCard ${n + 1} UID`);
    } catch (e) {
      batch.reject(`vCard #${n + 1}`, e);
      continue;
    }
    await batch.add({ collection, kind: 'contacts', id, content });
  }
  await batch.flush();
}

async function importICalendarFile(ctx: Context, file: ImportFile): Promise<void> {
  const { text, hash } = await readText(ctx, file);
  const parts = splitICalendar(text);
  const calendar = parts.some((p) => p.kind === 'calendar') ? await targetCollection(ctx, ctx.options.calendarCollection ?? 'calendar', 'calendar') : '';
  const tasks = parts.some((p) => p.kind === 'tasks') ? await targetCollection(ctx, ctx.options.tasksCollection ?? 'tasks', 'tasks') : '';
  const batch = batchFor(ctx, file, hash);
  for (const part of parts) {
    let id: string;
    try {
      id = checkId(part.uid, 'UID');
    } catch (e) {
      batch.reject(part.uid.slice(0, 255), e);
      continue;
    }
    await batch.add({ collection: part.kind === 'calendar' ? calendar : tasks, kind: part.kind, id, content: part.text });
  }
  await batch.flush();
}

/** A stable UID for a vCard that has none: the same card always gets the same one. */
function derivedUid(card: string): string {
  const h = createHash('sha256').update(card.replace(/\r\n/g, '\n').trim()).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The vCard with `UID:<uid>` added just before END:VCARD, in the card's own line ending. */
function withUid(card: string, uid: string): string {
  const eol = card.includes('\r\n') ? '\r\n' : '\n';
  return card.replace(/(\r?\n)?END:VCARD(\r?\n)?$/i, (_m, before: string | undefined, after: string | undefined) => `${before ?? eol}UID:${uid}${eol}END:VCARD${after ?? ''}`);
}

/** SHA-256 of the whole file, streamed for a path. */
async function fileHash(file: ImportFile): Promise<string> {
  if (file.bytes) return contentHash(file.bytes);
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file.path!)) h.update(chunk as Buffer);
  return 'sha256:' + h.digest('hex');
}

interface ZipCollection {
  id: string;
  kind: Kind;
  name: string;
  data: string[];
}

async function importZip(ctx: Context, file: ImportFile): Promise<void> {
  if (!file.bytes && !file.path) fail('invalid_request', `"${file.name}" has neither bytes nor a path`);
  const zip = await SafeZip.open(file, ctx.options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED);
  try {
    const collections = await readManifest(zip);
    const batch = batchFor(ctx, file, await fileHash(file));
    for (const col of collections) {
      try {
        await ensureCollection(ctx, col);
      } catch (e) {
        batch.reject(null, e);
        continue;
      }
      for (const dataPath of col.data) {
        const lines = (await zip.buffer(dataPath)).toString('utf8').split('\n').filter((l) => l !== '');
        for (const [n, text] of lines.entries()) {
          let line: DataLine;
          let content: unknown;
          try {
            line = parseDataLine(text, `${dataPath} line ${n + 1}`);
            content = decodeContent(col.kind, line.content);
          } catch (e) {
            batch.reject(`${dataPath}:${n + 1}`, e);
            continue;
          }
          const beforeWrite = col.kind === 'photos' ? () => uploadPhoto(ctx, zip, line, content as { blob: unknown; type?: unknown }) : undefined;
          await batch.add({ collection: col.id, kind: col.kind, id: line.id, content, beforeWrite });
        }
      }
    }
    await batch.flush();
  } finally {
    zip.close();
  }
}

async function uploadPhoto(ctx: Context, zip: SafeZip, line: DataLine, meta: { blob: unknown; type?: unknown }): Promise<void> {
  if (!isContentHash(meta.blob)) return; // the push rejects the item with the field named
  if (meta.type === FOLDER_TYPE) return; // a WebDAV folder entry: no bytes
  if (!zip.has(line.path)) fail('blob_missing', `the export has no bytes for photo "${line.id}" (expected "${line.path}")`);
  // Other files (type OTHER_FILE_TYPE) came from WebDAV folders; the push checks the type against the bytes.
  await ctx.photos.upload(ctx.user, meta.blob, await zip.stream(line.path), { anyType: meta.type === OTHER_FILE_TYPE });
}

/** Creates the collection when missing; refuses one that exists with another kind or was deleted. */
async function ensureCollection(ctx: Context, col: ZipCollection): Promise<void> {
  const existing = await ctx.store.getCollection(ctx.user.id, col.id);
  if (!existing) {
    await ctx.sync.createCollection(ctx.user, { id: col.id, kind: col.kind, name: col.name });
    return;
  }
  if (existing.deletedAt) {
    fail('collection_not_found', `collection "${col.id}" was deleted; restore it before importing into it`, { collection: col.id });
  }
  if (existing.kind !== col.kind) {
    fail('invalid_request', `collection "${col.id}" holds ${existing.kind} here but ${col.kind} in the export`, { collection: col.id });
  }
}

/** Reads and checks manifest.json; only the collection list is needed to import. */
async function readManifest(zip: SafeZip): Promise<ZipCollection[]> {
  if (!zip.has('manifest.json')) fail('invalid_request', 'the zip has no manifest.json: it is not a Keepsake export');
  let m: unknown;
  try {
    m = JSON.parse((await zip.buffer('manifest.json')).toString('utf8'));
  } catch (e) {
    if (e instanceof KeepsakeError) throw e;
    fail('invalid_request', 'manifest.json is not valid JSON');
  }
  const manifest = m as { format?: unknown; formatVersion?: unknown; collections?: unknown };
  if (manifest?.format !== EXPORT_FORMAT) fail('invalid_request', `manifest.json is not a ${EXPORT_FORMAT} manifest`);
  if (typeof manifest.formatVersion !== 'number' || manifest.formatVersion < 1 || manifest.formatVersion > EXPORT_FORMAT_VERSION) {
    fail('invalid_request', `export format version ${String(manifest.formatVersion)} is not one this server reads (1 to ${EXPORT_FORMAT_VERSION})`);
  }
  if (!Array.isArray(manifest.collections)) fail('invalid_request', 'manifest.json has no "collections" list');
  return manifest.collections.map((c: unknown, i: number): ZipCollection => {
    const at = `manifest collections[${i}]`;
    const r = (c ?? {}) as Record<string, unknown>;
    const id = checkId(r.id, `${at}.id`);
    if (!isKind(r.kind)) fail('unknown_kind', `${at}.kind is not one of the six kinds`);
    if (typeof r.name !== 'string') fail('invalid_request', `${at}.name must be a string`);
    if (!Array.isArray(r.data) || !r.data.every((p) => typeof p === 'string' && p.startsWith('data/') && zip.has(p))) {
      fail('invalid_request', `${at}.data must list data files present in the zip`);
    }
    return { id, kind: r.kind, name: r.name, data: r.data as string[] };
  });
}

function parseDataLine(text: string, where: string): DataLine {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail('invalid_request', `${where} is not valid JSON`);
  }
  const r = (v ?? {}) as Record<string, unknown>;
  if (typeof r.id !== 'string' || typeof r.content !== 'string' || typeof r.path !== 'string') {
    fail('invalid_request', `${where} needs string "id", "content" and "path"`);
  }
  return { id: checkId(r.id, `${where} id`), version: Number(r.version), hash: String(r.hash), modified: String(r.modified), content: r.content, path: r.path };
}
