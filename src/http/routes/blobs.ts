// Photo bytes: PUT /api/v1/blobs/sha256:<hex> streams an upload; GET returns it to its owner.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { userOf } from '../auth.js';
import type { RouteContext } from './context.js';

export function blobRoutes(app: FastifyInstance, { keepsake, auth }: RouteContext): void {
  app.put<{ Params: { hash: string } }>('/api/v1/blobs/:hash', { preHandler: auth.bearer }, async (request, reply) => {
    const r = await keepsake.photos.upload(userOf(request), request.params.hash, request.raw);
    reply.status(r.created ? 201 : 200);
    return r;
  });
  app.get<{ Params: { hash: string } }>('/api/v1/blobs/:hash', { preHandler: auth.bearer }, async (request, reply) => {
    const user = userOf(request);
    keepsake.sync.restores.requireAvailable(user.id, ['photos']);
    const b = await keepsake.photos.read(user, request.params.hash);
    reply.header('content-type', b.type).header('content-length', String(b.size)).header('etag', `"${request.params.hash}"`);
    reply.header('cache-control', 'private, max-age=31536000, immutable');
    return reply.send(Readable.from(b.body));
  });
}
