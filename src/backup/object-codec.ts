// The byte format of every backup object: a 48-byte header (magic, version, type, flags, length,
// checksum) followed by the body, optionally gzip-compressed and AES-256-GCM encrypted.
import { createCipheriv, createDecipheriv, createHash, hash, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BackupError } from './backup-error.js';

/** `KSBK`: every Keepsake backup object starts with these four bytes. */
export const OBJECT_MAGIC = Buffer.from('KSBK', 'ascii');
/**
 * The object format this code writes; it reads every version up to this one. Format 1's checksum
 * is SHA-256(header bytes 0..16 ‖ body); format 2's is SHA-256(header bytes 0..16 ‖ SHA-256(body)),
 * so a reader that needs the body's own hash anyway (a photo, named by it) hashes the bytes once.
 */
export const OBJECT_FORMAT = 2;
export const HEADER_BYTES = 48;

/** What an object holds (byte 5 of the header). */
export const ObjectType = {
  config: 1,
  segment: 2,
  snapshot: 3,
  snapshotData: 4,
  blob: 5,
  checkpoint: 6,
  verification: 7,
  pruneMark: 8,
  nameIndex: 9,
} as const;
export type ObjectTypeName = keyof typeof ObjectType;

const FLAG_GZIP = 1;
const FLAG_AES_GCM = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * zlib level of every compressed object. 3, not zlib's default 6: on the shipper's segments of
 * JSON log records it deflates ~1.8x faster for ~6 % more bytes (5.1 -> 2.8 µs per record, 35.1 ->
 * 37.3 KB per 430 records), and the shipper's compression runs under the write load on the same
 * cores as the server. Any level is plain gzip to a reader.
 */
const GZIP_LEVEL = 3;

export interface EncodeOptions {
  compress: boolean;
  /** 32-byte AES-256-GCM key, or null for no encryption. */
  key: Buffer | null;
}

/**
 * Encodes `payload` as an object named `name`. Layout (big-endian):
 * `0..4 magic · 4 format · 5 type · 6 flags · 7 reserved(0) · 8..16 body length ·
 * 16..48 SHA-256 of (header bytes 0..16 ‖ SHA-256(body)) · 48.. body`.
 * Body = payload, gzipped if flag 1, then if flag 2 `iv(12) ‖ AES-256-GCM ciphertext ‖ tag(16)`
 * with the object name and header bytes 0..16 as additional authenticated data, so an object
 * cannot be moved to another name undetected.
 */
export function encodeObject(name: string, type: ObjectTypeName, payload: Uint8Array, options: EncodeOptions): Buffer {
  let body: Buffer = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  let flags = 0;
  if (options.compress) {
    body = gzipSync(body, { level: GZIP_LEVEL });
    flags |= FLAG_GZIP;
  }
  if (options.key) flags |= FLAG_AES_GCM;
  const head = Buffer.alloc(16);
  OBJECT_MAGIC.copy(head, 0);
  head[4] = OBJECT_FORMAT;
  head[5] = ObjectType[type];
  head[6] = flags;
  head[7] = 0;
  if (options.key) {
    const iv = randomBytes(IV_BYTES);
    const encLen = IV_BYTES + body.length + TAG_BYTES;
    head.writeBigUInt64BE(BigInt(encLen), 8);
    const cipher = createCipheriv('aes-256-gcm', options.key, iv);
    cipher.setAAD(Buffer.concat([Buffer.from(name, 'utf8'), head]));
    body = Buffer.concat([iv, cipher.update(body), cipher.final(), cipher.getAuthTag()]);
  } else {
    head.writeBigUInt64BE(BigInt(body.length), 8);
  }
  const sum = checksum(head, sha256(body));
  return Buffer.concat([head, sum, body]);
}

const sha256 = (bytes: Uint8Array): Buffer => hash('sha256', bytes, 'buffer');

/** What the checksum is taken over in format 2 (one 48-byte input, hashed in one call). */
const checksumInput = Buffer.alloc(48);

/** Format 2 checksum: SHA-256 of the first 16 header bytes and the body's SHA-256. */
function checksum(head: Uint8Array, bodyHash: Uint8Array): Buffer {
  checksumInput.set(head.subarray(0, 16), 0);
  checksumInput.set(bodyHash, 16);
  return sha256(checksumInput);
}

/** Type names by their header byte. */
const TYPE_NAMES: Array<ObjectTypeName | undefined> = [];
for (const [name, code] of Object.entries(ObjectType)) TYPE_NAMES[code] = name as ObjectTypeName;

/** What {@link readHeader} found. */
export interface ObjectHeader {
  format: number;
  type: ObjectTypeName;
  compressed: boolean;
  encrypted: boolean;
  bodyLength: number;
  /** SHA-256 of the body, when the checksum check computed it (format 2). */
  bodyHash?: Buffer;
}

/**
 * Checks magic, format, length and checksum; throws `backup_object_corrupt` naming the object
 * when any is wrong. Verification calls this alone (no decryption key needed).
 */
export function checkObject(name: string, bytes: Uint8Array): ObjectHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = (what: string) => new BackupError('backup_object_corrupt', `backup object ${name} is damaged: ${what}`, { object: name });
  if (buf.length < HEADER_BYTES) throw corrupt(`only ${buf.length} bytes, shorter than the header`);
  if (!buf.subarray(0, 4).equals(OBJECT_MAGIC)) throw corrupt('it does not start with KSBK');
  const format = buf[4];
  if (format === 0) throw corrupt('format version 0');
  if (format > OBJECT_FORMAT) {
    throw new BackupError('backup_format_unsupported', `backup object ${name} has format ${format}; this Keepsake reads up to ${OBJECT_FORMAT}: upgrade`, {
      object: name,
    });
  }
  const typeName = TYPE_NAMES[buf[5]];
  if (!typeName) throw corrupt(`unknown object type ${buf[5]}`);
  const bodyLength = Number(buf.readBigUInt64BE(8));
  if (buf.length !== HEADER_BYTES + bodyLength) throw corrupt(`length ${buf.length - HEADER_BYTES} bytes, header says ${bodyLength} (truncated or extended)`);
  let bodyHash: Buffer | undefined;
  let sum: Buffer;
  if (format === 1) sum = createHash('sha256').update(buf.subarray(0, 16)).update(buf.subarray(HEADER_BYTES)).digest();
  else sum = checksum(buf.subarray(0, 16), (bodyHash = sha256(buf.subarray(HEADER_BYTES))));
  if (!sum.equals(buf.subarray(16, HEADER_BYTES))) throw corrupt('checksum mismatch');
  return { format, type: typeName, compressed: (buf[6] & FLAG_GZIP) !== 0, encrypted: (buf[6] & FLAG_AES_GCM) !== 0, bodyLength, bodyHash };
}

/** Checks and decodes an object, returning its payload. `expect` guards against a misplaced object. */
export function decodeObject(name: string, bytes: Uint8Array, key: Buffer | null, expect?: ObjectTypeName): Buffer {
  return decodeCheckedObject(name, bytes, checkObject(name, bytes), key, expect);
}

/**
 * Decodes an object whose header {@link checkObject} already returned, without hashing it again
 * (verification checks every object once and decodes the same bytes right after).
 */
export function decodeCheckedObject(name: string, bytes: Uint8Array, header: ObjectHeader, key: Buffer | null, expect?: ObjectTypeName): Buffer {
  const body = openCheckedObject(name, bytes, header, key, expect);
  return header.compressed ? gunzipBody(name, body) : body;
}

/**
 * The body of a checked object, decrypted when it is encrypted but still gzip-compressed when
 * `header.compressed` ({@link gunzipBody} or {@link gunzipBodies} finish it).
 */
export function openCheckedObject(name: string, bytes: Uint8Array, header: ObjectHeader, key: Buffer | null, expect?: ObjectTypeName): Buffer {
  if (expect && header.type !== expect) {
    throw new BackupError('backup_object_corrupt', `backup object ${name} is a ${header.type}, expected a ${expect}`, { object: name });
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let body = buf.subarray(HEADER_BYTES);
  if (header.encrypted) {
    if (!key) throw new BackupError('backup_key_required', `backup object ${name} is encrypted: give the key (--backup-key-file or KEEPSAKE_BACKUP_KEY)`);
    const iv = body.subarray(0, IV_BYTES);
    const tag = body.subarray(body.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.concat([Buffer.from(name, 'utf8'), buf.subarray(0, 16)]));
    decipher.setAuthTag(tag);
    try {
      body = Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]);
    } catch (e) {
      throw new BackupError('backup_object_corrupt', `backup object ${name} failed authentication (damaged, moved, or another key)`, { object: name, cause: e });
    }
  }
  return body;
}

/** Decompresses the gzip body of the object `name`; `backup_object_corrupt` when it does not decompress. */
export function gunzipBody(name: string, body: Uint8Array): Buffer {
  try {
    return gunzipSync(body);
  } catch (e) {
    throw new BackupError('backup_object_corrupt', `backup object ${name} does not decompress`, { object: name, cause: e });
  }
}

/** Largest total of compressed bytes {@link gunzipBodies} takes in one call. */
export const GUNZIP_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Decompresses several objects' gzip bodies in one zlib call, or returns null when that does not
 * give every body's exact output (then decompress each with {@link gunzipBody}, which names the
 * bad one). Setting up a zlib stream costs several times inflating a small body, and a user's
 * segment is about 1.6 KB: verification inflates a worker's batch of users at once. The bodies
 * are concatenated as gzip members; zlib checks each member's CRC-32 and length, and the output
 * is split by each member's length field (its last four bytes, little-endian, RFC 1952 §2.3.1).
 */
export function gunzipBodies(bodies: readonly Uint8Array[]): Buffer[] | null {
  let total = 0;
  for (const b of bodies) {
    if (b.length < 18) return null; // shorter than a gzip header and trailer
    total += b.length;
  }
  if (total > GUNZIP_BATCH_BYTES) return null;
  let out: Buffer;
  try {
    out = gunzipSync(Buffer.concat(bodies, total));
  } catch {
    return null;
  }
  const parts: Buffer[] = [];
  let at = 0;
  for (const b of bodies) {
    const size = Buffer.from(b.buffer, b.byteOffset, b.byteLength).readUInt32LE(b.length - 4);
    if (size === 0) return null; // a member zlib never reached would look the same
    parts.push(out.subarray(at, at + size));
    at += size;
  }
  // Trailing bytes after a member or a member that stops early shift everything: take none of it.
  return at === out.length ? parts : null;
}
