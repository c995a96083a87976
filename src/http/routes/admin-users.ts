// Admin-only account management: /api/v1/admin/users, the API twin of `keepsake user …`.
import type { FastifyInstance } from 'fastify';
import { fail } from '../../core/errors.js';
import type { RouteContext } from './context.js';

function fields(body: unknown, allowed: string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail('invalid_request', 'body must be a JSON object');
  for (const k of Object.keys(body)) if (!allowed.includes(k)) fail('invalid_request', `unknown field "${k}"`, { field: k });
  return body as Record<string, unknown>;
}

export function adminUserRoutes(app: FastifyInstance, { keepsake, auth }: RouteContext): void {
  const { accounts } = keepsake;
  app.get('/api/v1/admin/users', { preHandler: auth.admin }, async () => ({ users: await accounts.listUsers() }));
  // Overall progress of an online restore, per category: users in each state, items, throughput, ETA.
  app.get('/api/v1/admin/restore', { preHandler: auth.admin }, async () => keepsake.sync.restores.overall());
  app.post('/api/v1/admin/users', { preHandler: auth.admin }, async (request, reply) => {
    const b = fields(request.body, ['name', 'password', 'admin']);
    if (b.admin !== undefined && typeof b.admin !== 'boolean') fail('invalid_request', '"admin" must be a boolean', { field: 'admin' });
    const u = await accounts.addUser(b.name, b.password, { admin: b.admin === true });
    reply.status(201);
    return u;
  });
  app.patch<{ Params: { name: string } }>('/api/v1/admin/users/:name', { preHandler: auth.admin }, async (request) => {
    const b = fields(request.body, ['password', 'admin', 'deleted']);
    const name = request.params.name;
    await accounts.requireUser(name);
    if (b.admin !== undefined && typeof b.admin !== 'boolean') fail('invalid_request', '"admin" must be a boolean', { field: 'admin' });
    if (b.deleted !== undefined && b.deleted !== false) fail('invalid_request', '"deleted" may only be set to false (undelete); use DELETE to delete', { field: 'deleted' });
    if (b.password !== undefined) await accounts.setPassword(name, b.password);
    if (typeof b.admin === 'boolean') await accounts.setAdmin(name, b.admin);
    if (b.deleted === false) await accounts.undeleteUser(name);
    return (await accounts.listUsers()).find((u) => u.name === name);
  });
  app.delete<{ Params: { name: string } }>('/api/v1/admin/users/:name', { preHandler: auth.admin }, async (request) =>
    accounts.deleteUser(request.params.name),
  );
}
