// Collections: list, create, rename, soft-delete.
import type { FastifyInstance } from 'fastify';
import { userOf } from '../auth.js';
import type { RouteContext } from './context.js';

export function collectionRoutes(app: FastifyInstance, { keepsake, auth }: RouteContext): void {
  const { sync } = keepsake;
  app.get('/api/v1/collections', { preHandler: auth.bearer }, async (request) => ({
    collections: await sync.listCollections(userOf(request)),
  }));
  app.post('/api/v1/collections', { preHandler: auth.bearer }, async (request, reply) => {
    const c = await sync.createCollection(userOf(request), request.body);
    reply.status(201);
    return c;
  });
  app.patch<{ Params: { id: string } }>('/api/v1/collections/:id', { preHandler: auth.bearer }, async (request) =>
    sync.renameCollection(userOf(request), request.params.id, request.body),
  );
  app.delete<{ Params: { id: string } }>('/api/v1/collections/:id', { preHandler: auth.bearer }, async (request, reply) => {
    await sync.deleteCollection(userOf(request), request.params.id);
    reply.status(204);
  });
}
