// Turns `--backup` locations and the key option into repositories, and checks targets' failure domains.
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BackupTarget } from '../core/ports/backup-target.js';
import { BackupError } from './backup-error.js';
import { openRepository, type BackupRepository } from './repository.js';
import { fileTargetPath, openFileTarget } from './targets/file/file-target.js';

/** Opens the target a location names: `file:///path` or a plain path (S3 and SFTP come later). */
export async function openTarget(location: string): Promise<BackupTarget> {
  if (location.startsWith('file:') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return openFileTarget(location);
  throw new BackupError('backup_target_invalid', `backup target "${location}": only file:///path or a directory path is supported so far`);
}

/** How a location is described in status and logs (the same text its target would give). */
export function describeLocation(location: string): string {
  if (location.startsWith('file:') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return `file://${fileTargetPath(location)}`;
  return location.replace(/\/\/[^@/]*@/, '//');
}

/**
 * The key material: the first line-trimmed contents of `keyFile` when given, else the
 * `KEEPSAKE_BACKUP_KEY` environment variable, else null (no encryption).
 */
export function readBackupKey(keyFile: string, env: Record<string, string | undefined> = process.env): string | null {
  if (keyFile !== '') {
    let text: string;
    try {
      text = readFileSync(keyFile, 'utf8');
    } catch (e) {
      throw new BackupError('backup_target_invalid', `cannot read the backup key file ${keyFile}: ${(e as Error).message}`);
    }
    const key = text.trim();
    if (key.length < 16) throw new BackupError('backup_target_invalid', `the backup key in ${keyFile} is shorter than 16 characters`);
    return key;
  }
  const fromEnv = env.KEEPSAKE_BACKUP_KEY;
  return fromEnv && fromEnv.trim() !== '' ? fromEnv.trim() : null;
}

/** Opens every location's repository (creating it when `create`); the key is checked on each. */
export async function openRepositories(locations: string[], key: string | null, create: boolean): Promise<BackupRepository[]> {
  const out: BackupRepository[] = [];
  for (const loc of locations) out.push(await openRepository(await openTarget(loc), { key, create }));
  return out;
}

/** Device id of the filesystem holding `path` (or its nearest existing parent). */
async function deviceOf(path: string): Promise<number | null> {
  for (let p = path; ; p = dirname(p)) {
    try {
      return (await stat(p)).dev;
    } catch {
      if (dirname(p) === p) return null;
    }
  }
}

/**
 * One warning per target that sits on the same filesystem as any of `storePaths` (the SQLite
 * file, the photo directory): a disk failure there would take the data and its backup together.
 */
export async function sameFilesystemWarnings(targets: BackupTarget[], storePaths: string[]): Promise<string[]> {
  const storeDevs = new Set<number>();
  for (const p of storePaths) {
    const d = await deviceOf(p);
    if (d !== null) storeDevs.add(d);
  }
  const out: string[] = [];
  for (const t of targets) {
    const local = t.localPath();
    if (local === null) continue;
    const d = await deviceOf(local);
    if (d !== null && storeDevs.has(d)) {
      out.push(`backup target ${t.description} is on the SAME FILESYSTEM as the store: one disk failure loses both. Put backups on another disk or machine.`);
    }
  }
  return out;
}

/** Splits `KEEPSAKE_BACKUP` (comma-separated) and repeated `--backup` flags into locations. */
export function backupLocations(flags: string[] | undefined, env: Record<string, string | undefined> = process.env): string[] {
  if (flags && flags.length > 0) return flags;
  return (env.KEEPSAKE_BACKUP ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}
