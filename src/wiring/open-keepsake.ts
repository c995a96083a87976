// The one place that turns a configuration into stores and services.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config-schema.js';
import { AccountService } from '../core/accounts/account-service.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import { type Clock, systemClock } from '../core/ports/clock.js';
import type { RecordStore } from '../core/ports/record-store.js';
import { RestoreTracker } from '../core/restore/restore-tracker.js';
import { SelfRestore } from '../core/restore/self-restore.js';
import { PhotoBlobs } from '../core/sync/photo-blobs.js';
import { DEFAULT_SYNC_LIMITS, SyncService } from '../core/sync/sync-service.js';
import { openFsBlobStore } from '../store/blobs-fs/blob-store.js';
import { openPostgresStore } from '../store/postgres/record-store.js';
import { openSqliteStore } from '../store/sqlite/record-store.js';
import { ContentWorkerPool } from '../workers/content-pool.js';
import { inlineContentChecker } from '../core/ports/content-checker.js';

/** Everything a transport or command needs, built from one configuration. */
export interface Keepsake {
  config: Config;
  clock: Clock;
  store: RecordStore;
  blobs: BlobStore;
  accounts: AccountService;
  sync: SyncService;
  photos: PhotoBlobs;
  selfRestore: SelfRestore;
  close(): Promise<void>;
}

/** Opens the record store named by `--store`, or SQLite inside `--data`. */
export async function openRecordStore(config: Config): Promise<RecordStore> {
  const url = config.store;
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    // `?schema=NAME` keeps Keepsake's tables in their own schema (one database, several instances).
    const u = new URL(url);
    const schema = u.searchParams.get('schema') ?? undefined;
    u.searchParams.delete('schema');
    return openPostgresStore(u.toString(), { schema });
  }
  const file = url.startsWith('sqlite:') ? resolve(url.slice('sqlite:'.length)) : join(resolve(config.data), 'keepsake.db');
  return openSqliteStore(file);
}

/** Optional hooks into wiring (backups wrap the store so writes reach the shipper). */
export interface WiringHooks {
  wrapStore?(store: RecordStore, blobs: BlobStore): RecordStore;
}

export async function openKeepsake(config: Config, clock: Clock = systemClock, hooks: WiringHooks = {}): Promise<Keepsake> {
  const dataDir = resolve(config.data);
  await mkdir(dataDir, { recursive: true });
  const store = await openRecordStore(config);
  const blobs = await openFsBlobStore(join(dataDir, 'blobs'));
  return assemble(config, hooks.wrapStore ? hooks.wrapStore(store, blobs) : store, blobs, clock);
}

/** Builds the services on given stores (tests pass memory stores here). */
export function assemble(config: Config, store: RecordStore, blobs: BlobStore, clock: Clock = systemClock): Keepsake {
  const limits = {
    ...DEFAULT_SYNC_LIMITS,
    maxBlobBytes: config.maxPhotoBytes,
    massDelete: { share: config.massDeleteShare, minItems: config.massDeleteMinItems },
  };
  const restores = new RestoreTracker(clock);
  // Off by default: on the 2-core reference machine it gained ~3% batched throughput for ~17 MB
  // of resident memory (bench/run.ts, KEEPSAKE_CONTENT_THREADS=0 vs 1); more cores gain more.
  const content = config.contentThreads > 0 ? new ContentWorkerPool({ threads: config.contentThreads }) : inlineContentChecker;
  return {
    config,
    clock,
    store,
    blobs,
    accounts: new AccountService(store, clock, undefined, restores),
    sync: new SyncService(store, blobs, clock, limits, restores, content),
    photos: new PhotoBlobs(store, blobs, config.maxPhotoBytes),
    selfRestore: new SelfRestore(store, clock, config.retentionDays * 86_400_000),
    async close() {
      await content.close();
      await store.close();
      await blobs.close();
    },
  };
}
