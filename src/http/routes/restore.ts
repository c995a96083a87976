// POST /api/v1/restore: a user restores their own categories to a point in time.
import type { FastifyInstance } from 'fastify';
import { parseRestoreRequest } from '../../core/restore/self-restore.js';
import { userOf } from '../auth.js';
import type { RouteContext } from './context.js';

export function restoreRoutes(app: FastifyInstance, { keepsake, auth }: RouteContext): void {
  app.post('/api/v1/restore', { preHandler: auth.bearer }, async (request) => {
    const { categories, at } = parseRestoreRequest(request.body);
    const user = userOf(request);
    const report = await keepsake.selfRestore.restore(user, categories, at);
    keepsake.sync.forgetCaches(user.id);
    return report;
  });
}
