// Device tokens: POST /api/v1/tokens (Basic), GET /api/v1/tokens, DELETE /api/v1/tokens/:id.
import type { FastifyInstance } from 'fastify';
import { fail } from '../../core/errors.js';
import { userOf } from '../auth.js';
import type { RouteContext } from './context.js';

export function tokenRoutes(app: FastifyInstance, { keepsake, auth }: RouteContext): void {
  app.post('/api/v1/tokens', { preHandler: auth.basic }, async (request, reply) => {
    const body = request.body as Record<string, unknown> | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) fail('invalid_request', 'body must be {"device": "name"}');
    for (const k of Object.keys(body)) if (k !== 'device') fail('invalid_request', `unknown field "${k}"`, { field: k });
    const issued = await keepsake.accounts.issueToken(userOf(request), body.device);
    reply.status(201);
    return issued;
  });
  app.get('/api/v1/tokens', { preHandler: auth.bearer }, async (request) => ({
    devices: await keepsake.accounts.listDevices(userOf(request)),
  }));
  app.delete<{ Params: { id: string } }>('/api/v1/tokens/:id', { preHandler: auth.bearer }, async (request, reply) => {
    await keepsake.accounts.revokeDevice(userOf(request), request.params.id);
    reply.status(204);
  });
}
