// `keepsake serve`: run the HTTP server until SIGINT/SIGTERM, then finish in-flight writes and stop.
import { Command } from 'commander';
import { CONFIG_SCHEMA, type ConfigKey } from '../../config/config-schema.js';
import { buildHttpServer } from '../../http/server.js';
import { openKeepsake } from '../../wiring/open-keepsake.js';
import { action, addConfigOptions, configFrom } from '../options.js';

const SERVE_KEYS = Object.keys(CONFIG_SCHEMA) as ConfigKey[];
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export function serveCommand(): Command {
  return addConfigOptions(new Command('serve').description('serve the sync API'), SERVE_KEYS).action(
    action(async (opts: Record<string, unknown>) => {
      const config = configFrom(opts, SERVE_KEYS);
      const keepsake = await openKeepsake(config);
      const app = await buildHttpServer(keepsake, { logger: { level: config.logLevel } });
      const log = app.log;
      const identity = await keepsake.store.identity();
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      log.info({ store: keepsake.store.description, blobs: keepsake.blobs.description, server: identity.id, epoch: identity.epoch }, 'store opened');
      log.warn('no backup target is configured: the data exists only in this store (see the README, "Backups")');
      // One plain line on stdout so scripts and tests can find the address.
      process.stdout.write(`keepsake listening on http://${config.host}:${port}\n`);

      const retentionMs = config.retentionDays * 24 * 3600 * 1000;
      const prune = async () => {
        try {
          const n = await keepsake.store.pruneRevisions(new Date(Date.now() - retentionMs).toISOString());
          if (n > 0) log.info({ revisions: n }, 'pruned revisions past the retention window');
        } catch (err) {
          log.error({ err }, 'pruning revisions failed');
        }
      };
      const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
      pruneTimer.unref();
      void prune();

      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down: finishing in-flight requests');
        clearInterval(pruneTimer);
        await app.close();
        await keepsake.close();
        log.info('stopped cleanly');
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    }),
  );
}
