// The one typed configuration schema: every option with its default, help text and parser.
import { fail } from '../core/errors.js';

export interface OptionSpec<T> {
  /** Long flag without dashes, e.g. `data` for `--data`. */
  flag: string;
  /** Environment variable, e.g. `KEEPSAKE_DATA`. */
  env: string;
  help: string;
  default: T;
  /** Parses the text form; throws with a message that says what is accepted. */
  parse(text: string): T;
  /** Placeholder shown in help, e.g. `DIR`. */
  arg: string;
}

function int(min: number, max: number) {
  return (t: string): number => {
    const n = Number(t);
    if (!/^-?\d+$/.test(t.trim()) || n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** Parses sizes such as `50MiB`, `512k`, `1048576`. */
export function parseSize(t: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(t);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error('expected a size such as 50MiB, 512KiB or a number of bytes');
  return Math.floor(Number(m[1]) * unit);
}

function share(t: string): number {
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new Error('expected a share between 0 (exclusive) and 1');
  return n;
}

function text(t: string): string {
  if (t.trim() === '') throw new Error('expected a non-empty value');
  return t;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const CONFIG_SCHEMA = {
  data: { flag: 'data', env: 'KEEPSAKE_DATA', arg: 'DIR', help: 'data directory (SQLite store and photo blobs)', default: './keepsake-data', parse: text },
  store: {
    flag: 'store',
    env: 'KEEPSAKE_STORE',
    arg: 'URL',
    help: 'record store: empty for SQLite in the data directory, sqlite:/path/file.db, or postgres://user@host/db',
    default: '',
    parse: (t: string) => {
      if (t !== '' && !/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(t)) throw new Error('expected sqlite:/path or postgres://…');
      return t;
    },
  },
  host: { flag: 'host', env: 'KEEPSAKE_HOST', arg: 'ADDR', help: 'address to listen on', default: '127.0.0.1', parse: text },
  port: { flag: 'port', env: 'KEEPSAKE_PORT', arg: 'N', help: 'TCP port to listen on (0 picks a free one)', default: 7373, parse: int(0, 65535) },
  retentionDays: {
    flag: 'retention-days',
    env: 'KEEPSAKE_RETENTION_DAYS',
    arg: 'DAYS',
    help: 'how long revisions, trash and deleted accounts are kept',
    default: 30,
    parse: int(1, 36500),
  },
  maxPhotoBytes: { flag: 'max-photo-size', env: 'KEEPSAKE_MAX_PHOTO_SIZE', arg: 'SIZE', help: 'largest photo accepted', default: 50 * 1024 * 1024, parse: parseSize },
  maxBodyBytes: {
    flag: 'max-body-size',
    env: 'KEEPSAKE_MAX_BODY_SIZE',
    arg: 'SIZE',
    help: 'largest JSON request body accepted',
    default: 32 * 1024 * 1024,
    parse: parseSize,
  },
  massDeleteShare: {
    flag: 'mass-delete-share',
    env: 'KEEPSAKE_MASS_DELETE_SHARE',
    arg: 'SHARE',
    help: 'share of a collection one request may delete without confirmMassDelete',
    default: 0.5,
    parse: share,
  },
  massDeleteMinItems: {
    flag: 'mass-delete-min-items',
    env: 'KEEPSAKE_MASS_DELETE_MIN_ITEMS',
    arg: 'N',
    help: 'collections with at most this many items are not guarded',
    default: 20,
    parse: int(0, 1_000_000_000),
  },
  contentThreads: {
    flag: 'content-threads',
    env: 'KEEPSAKE_CONTENT_THREADS',
    arg: 'N',
    help: 'worker threads that check pushed vCards/iCalendar in big batches (0: on the event loop)',
    default: 0,
    parse: int(0, 64),
  },
  logLevel: {
    flag: 'log-level',
    env: 'KEEPSAKE_LOG_LEVEL',
    arg: 'LEVEL',
    help: `log level: ${LEVELS.join(', ')}`,
    default: 'info',
    parse: (t: string) => {
      if (!LEVELS.includes(t)) throw new Error(`expected one of ${LEVELS.join(', ')}`);
      return t;
    },
  },
  // Backups (issue 3). Targets themselves are given with repeatable --backup TARGET or KEEPSAKE_BACKUP=a,b.
  durability: {
    flag: 'durability',
    env: 'KEEPSAKE_DURABILITY',
    arg: 'LEVEL',
    help: 'when a write is acknowledged: store (committed and fsynced) or backup (also in at least one backup target)',
    default: 'store',
    parse: (t: string) => {
      if (t !== 'store' && t !== 'backup') throw new Error('expected store or backup');
      return t;
    },
  },
  backupVerifyHours: {
    flag: 'backup-verify-hours',
    env: 'KEEPSAKE_BACKUP_VERIFY_HOURS',
    arg: 'HOURS',
    help: 'the server verifies each backup target this often (checksums of every object except photo bytes, restores of changed and sampled users); 0: never',
    default: 24,
    parse: int(0, 8760),
  },
  backupVerifyAllDays: {
    flag: 'backup-verify-all-days',
    env: 'KEEPSAKE_BACKUP_VERIFY_ALL_DAYS',
    arg: 'DAYS',
    help: 'the server re-reads every object of each backup target (photo bytes included) once in this many days, a slice every few minutes; 0: never',
    default: 7,
    parse: int(0, 3650),
  },
  backupKeyFile: {
    flag: 'backup-key-file',
    env: 'KEEPSAKE_BACKUP_KEY_FILE',
    arg: 'FILE',
    help: 'file holding the backup encryption key (or set KEEPSAKE_BACKUP_KEY); none: backups are not encrypted',
    default: '',
    parse: text,
  },
} satisfies Record<string, OptionSpec<unknown>>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;
export type Config = { [K in ConfigKey]: (typeof CONFIG_SCHEMA)[K]['default'] };

/**
 * Builds the configuration: flags override environment, environment overrides defaults.
 * Throws `invalid_config` naming the bad key, where it came from, and what is accepted.
 */
export function resolveConfig(
  flags: Partial<Record<ConfigKey, string | undefined>>,
  env: Record<string, string | undefined>,
  keys: readonly ConfigKey[] = Object.keys(CONFIG_SCHEMA) as ConfigKey[],
): Config {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(CONFIG_SCHEMA) as ConfigKey[]) {
    const spec: OptionSpec<unknown> = CONFIG_SCHEMA[key];
    const fromFlag = keys.includes(key) ? flags[key] : undefined;
    const raw = fromFlag ?? env[spec.env];
    if (raw === undefined) {
      out[key] = spec.default;
      continue;
    }
    try {
      out[key] = spec.parse(String(raw));
    } catch (e) {
      const where = fromFlag !== undefined ? `--${spec.flag}` : spec.env;
      fail('invalid_config', `invalid ${where} "${raw}": ${(e as Error).message}`, { key });
    }
  }
  return out as Config;
}
