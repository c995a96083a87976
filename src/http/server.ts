// Builds the HTTP server: Fastify with one error path, auth hooks, metrics and the route modules.
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { davRoutes } from '../dav/dav-routes.js'; // CalDAV/CardDAV/WebDAV (issue 6)
import type { Keepsake } from '../wiring/open-keepsake.js';
import type { RecordStore } from '../core/ports/record-store.js';
import { authHooks } from './auth.js';
import { handleError } from './error-mapper.js';
import { countRequestsInFlight } from './in-flight.js';
import { addBackupGauges, type BackupMetricsSource, createMetrics } from './metrics.js';
import { adminUserRoutes } from './routes/admin-users.js';
import { blobRoutes } from './routes/blobs.js';
import { changeRoutes } from './routes/changes.js';
import { collectionRoutes } from './routes/collections.js';
import type { RouteContext } from './routes/context.js';
import { exportRoutes } from './routes/export.js';
import { itemRoutes } from './routes/items.js';
import { restoreRoutes } from './routes/restore.js';
import { type ServerHealth, statusRoutes } from './routes/status.js';
import { tokenRoutes } from './routes/tokens.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route, so the authorization test can prove it covers them all. */
    routeList: Array<{ method: string; url: string }>;
  }
}

export interface HttpOptions {
  /** Pino logger options, or false for none (tests). */
  logger?: boolean | { level: string };
  /** Health facts other subsystems add to /api/v1/status. */
  health?: (userId: string) => ServerHealth;
  /** Backup targets' state for /metrics (issue 3); absent when no target is configured. */
  backupStatus?: () => BackupMetricsSource[];
}

export async function buildHttpServer(keepsake: Keepsake, options: HttpOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: keepsake.config.maxBodyBytes,
    // Per-request log lines cost throughput; errors are still logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Ids such as `urn:uuid:…` and `sha256:…` appear in paths.
    routerOptions: { maxParamLength: 500 },
    forceCloseConnections: false,
    return503OnClosing: true,
  });
  // A store that can sync on the event loop does so while this server serves one request at
  // most: a lone client waiting for its write gains nothing from the threadpool hand-off.
  const store = keepsake.store as RecordStore & { syncInlineWhen?: (predicate: () => boolean) => void };
  if (typeof store.syncInlineWhen === 'function') {
    const inFlight = countRequestsInFlight(app.server);
    store.syncInlineWhen(() => inFlight() <= 1);
  }
  const metrics = createMetrics(keepsake.store);
  if (options.backupStatus) addBackupGauges(metrics.registry, options.backupStatus); // backups (issue 3)
  const ctx: RouteContext = { keepsake, auth: authHooks(keepsake.accounts) };
  const routeList: Array<{ method: string; url: string }> = [];
  app.decorate('routeList', routeList);
  app.addHook('onRoute', (r) => {
    // DAV routes (config.dav) answer in XML and are covered method by method by test/dav/authorization.test.ts.
    if ((r.config as { dav?: boolean } | undefined)?.dav) return;
    for (const m of [r.method].flat()) if (m !== 'HEAD') routeList.push({ method: m, url: r.url });
  });

  // Photo uploads stream straight to the blob store: the route reads request.raw itself.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.addHook('onResponse', async (request, reply) => {
    metrics.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });

  const health = options.health ?? (() => ({ backup: { configured: false, message: 'no backup target is configured: data exists only in this store' } }));
  tokenRoutes(app, ctx);
  collectionRoutes(app, ctx);
  changeRoutes(app, ctx);
  blobRoutes(app, ctx);
  itemRoutes(app, ctx);
  exportRoutes(app, ctx);
  restoreRoutes(app, ctx);
  adminUserRoutes(app, ctx);
  davRoutes(app, ctx); // CalDAV/CardDAV/WebDAV under /dav (issue 6)
  statusRoutes(app, ctx, metrics, health);
  return app;
}
