// GET /api/v1/status (per-user), GET /healthz and GET /metrics.
import type { FastifyInstance } from 'fastify';
import { davServiceOf } from '../../dav/dav-request.js';
import { PROTOCOL_VERSION } from '../../protocol/sync-protocol.js';
import { userOf } from '../auth.js';
import type { HttpMetrics } from '../metrics.js';
import type { RouteContext } from './context.js';

/** What the server tells every user about its own health (later: backup and restore state). */
export interface ServerHealth {
  /** Backup state (issue 3); with targets configured also `lastBackedUpAt` for this user, `upToDate`, per-target lag. */
  backup: { configured: boolean; message: string; [detail: string]: unknown };
}

export function statusRoutes(app: FastifyInstance, { keepsake, auth }: RouteContext, metrics: HttpMetrics, health: (userId: string) => ServerHealth): void {
  app.get('/api/v1/status', { preHandler: auth.bearer }, async (request) => {
    const user = userOf(request);
    const server = await keepsake.store.identity();
    return {
      user: { id: user.id, name: user.name, admin: user.admin },
      server: { id: server.id, epoch: server.epoch, protocol: PROTOCOL_VERSION, ...health(user.id) },
      kinds: await keepsake.sync.status(user),
      // Per category while an online restore runs: pending, restoring, restored, verified.
      restore: keepsake.sync.restores.forUser(user.id),
      // Bursts of deletes by one DAV device over the mass-deletion guard's share (issue 6); undo with POST /api/v1/undo-deletes.
      massDeletions: await davServiceOf(keepsake).massDeletions(user),
    };
  });
  app.get('/healthz', async (_request, reply) => {
    try {
      await keepsake.store.identity();
      return { status: 'ok' };
    } catch (e) {
      reply.status(503);
      return { status: 'unavailable', error: (e as Error).message };
    }
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
