// Shared CLI plumbing: schema-driven options, configuration, and error reporting with exit codes.
import { type Command, Option } from 'commander';
import { CONFIG_SCHEMA, type Config, type ConfigKey, resolveConfig } from '../config/config-schema.js';
import { isKeepsakeError } from '../core/errors.js';
import type { Keepsake } from '../wiring/open-keepsake.js';

/** Options every command that touches the store takes. */
export const STORE_KEYS: ConfigKey[] = ['data', 'store'];

/** Adds `--flag ARG` options for the given config keys, with help showing env var and default. */
export function addConfigOptions(cmd: Command, keys: readonly ConfigKey[]): Command {
  for (const key of keys) {
    const spec = CONFIG_SCHEMA[key];
    const def = spec.default === '' ? 'none' : String(spec.default);
    cmd.addOption(new Option(`--${spec.flag} <${spec.arg}>`, `${spec.help} [env ${spec.env}, default ${def}]`));
  }
  return cmd;
}

/** Resolves the configuration from a command's parsed options and the environment. */
export function configFrom(opts: Record<string, unknown>, keys: readonly ConfigKey[]): Config {
  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const key of keys) {
    const camel = CONFIG_SCHEMA[key].flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const v = opts[camel];
    if (typeof v === 'string') flags[key] = v;
  }
  return resolveConfig(flags, process.env, keys);
}

/** Opens the store for a one-shot command, runs `fn`, and always closes it. */
export async function withKeepsake<T>(opts: Record<string, unknown>, fn: (k: Keepsake) => Promise<T>): Promise<T> {
  // Loaded on use: the stores and services cost a command that needs none (backup verify) ~0.3 s.
  const { openKeepsake } = await import('../wiring/open-keepsake.js');
  const k = await openKeepsake(configFrom(opts, STORE_KEYS));
  try {
    return await fn(k);
  } finally {
    await k.close();
  }
}

/** Wraps an action: domain errors print `error [code]: message` and exit 2; others exit 1 with the stack. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isKeepsakeError(e)) {
        process.stderr.write(`error [${e.code}]: ${e.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    }
  };
}

/** Prints `value` as JSON when `json` is set, else the human text. */
export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
}
