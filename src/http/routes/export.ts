// GET /api/v1/export: the user's own backup, streamed as a zip.
import type { FastifyInstance } from 'fastify';
import { exportTo } from '../../export/export-zip.js';
import { PassThrough } from 'node:stream';
import { KINDS } from '../../core/kinds.js';
import { userOf } from '../auth.js';
import type { RouteContext } from './context.js';

export function exportRoutes(app: FastifyInstance, { keepsake, auth }: RouteContext): void {
  app.get('/api/v1/export', { preHandler: auth.bearer }, async (request, reply) => {
    const user = userOf(request);
    keepsake.sync.restores.requireAvailable(user.id, KINDS);
    const body = new PassThrough();
    exportTo(keepsake.store, keepsake.blobs, user, body).catch((err) => {
      request.log.error({ err }, 'export failed midway');
      body.destroy(err as Error);
    });
    const day = new Date(keepsake.clock.now()).toISOString().slice(0, 10);
    reply.header('content-type', 'application/zip');
    reply.header('content-disposition', `attachment; filename="keepsake-${user.name}-${day}.zip"`);
    return reply.send(body);
  });
}
