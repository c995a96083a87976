// One item, its revisions, and the trash.
import type { FastifyInstance } from 'fastify';
import { fail } from '../../core/errors.js';
import { userOf } from '../auth.js';
import type { RouteContext } from './context.js';

type ItemParams = { collection: string; id: string };

function version(text: string): number {
  if (!/^\d{1,15}$/.test(text)) fail('invalid_request', 'version must be a positive integer', { field: 'version' });
  return Number(text);
}

export function itemRoutes(app: FastifyInstance, { keepsake, auth }: RouteContext): void {
  const { sync } = keepsake;
  app.get<{ Params: ItemParams }>('/api/v1/items/:collection/:id', { preHandler: auth.bearer }, async (request) =>
    sync.getItem(userOf(request), request.params.collection, request.params.id),
  );
  app.get<{ Params: ItemParams }>('/api/v1/items/:collection/:id/revisions', { preHandler: auth.bearer }, async (request) => ({
    revisions: await sync.listRevisions(userOf(request), request.params.collection, request.params.id),
  }));
  app.post<{ Params: ItemParams & { version: string } }>(
    '/api/v1/items/:collection/:id/revisions/:version/restore',
    { preHandler: auth.bearer },
    async (request) => sync.restoreRevision(userOf(request), request.params.collection, request.params.id, version(request.params.version)),
  );
  app.get('/api/v1/trash', { preHandler: auth.bearer }, async (request) => ({ items: await sync.listTrash(userOf(request)) }));
  app.post<{ Params: ItemParams }>('/api/v1/trash/:collection/:id/restore', { preHandler: auth.bearer }, async (request) =>
    sync.restoreFromTrash(userOf(request), request.params.collection, request.params.id),
  );
}
