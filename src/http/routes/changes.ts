// The sync endpoints: GET /api/v1/changes (pull) and POST /api/v1/changes (push).
import type { FastifyInstance } from 'fastify';
import { fail } from '../../core/errors.js';
import { userOf } from '../auth.js';
import type { RouteContext } from './context.js';

export function changeRoutes(app: FastifyInstance, { keepsake, auth }: RouteContext): void {
  app.get<{ Querystring: Record<string, string | undefined> }>('/api/v1/changes', { preHandler: auth.bearer }, async (request) => {
    const { since, limit, ...rest } = request.query;
    for (const k of Object.keys(rest)) fail('invalid_request', `unknown query parameter "${k}"`, { field: k });
    if (limit !== undefined && !/^\d{1,6}$/.test(limit)) fail('invalid_request', 'limit must be a positive integer', { field: 'limit' });
    return keepsake.sync.pull(userOf(request), since, limit === undefined ? undefined : Number(limit));
  });
  app.post('/api/v1/changes', { preHandler: auth.bearer }, async (request) => keepsake.sync.push(userOf(request), request.body));
}
