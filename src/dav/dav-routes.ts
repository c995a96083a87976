// Registers CalDAV/CardDAV/WebDAV under /dav/, the .well-known redirects and POST /api/v1/undo-deletes; dispatches by method.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fail } from '../core/errors.js';
import { userOf } from '../http/auth.js';
import type { RouteContext } from '../http/routes/context.js';
import { sendDavError } from './dav-errors.js';
import { DavAuth, type DavRequest, davServicesOf } from './dav-request.js';
import { DAV_ROOT, parseDavPath } from './dav-paths.js';
import { copyMove } from './methods/copy-move.js';
import { remove } from './methods/delete.js';
import { get } from './methods/get.js';
import { mkcol } from './methods/mkcol.js';
import { davHeaders, options } from './methods/options.js';
import { propfind } from './methods/propfind.js';
import { proppatch } from './methods/proppatch.js';
import { put } from './methods/put.js';
import { report } from './methods/report.js';
import { checkOwner } from './resources.js';

/** Methods Fastify does not know by default; all carry a body. */
const EXTRA_METHODS = ['PROPFIND', 'PROPPATCH', 'REPORT', 'MKCOL', 'MKCALENDAR', 'COPY', 'MOVE'];
export const DAV_METHODS = ['OPTIONS', 'GET', 'HEAD', 'PUT', 'DELETE', ...EXTRA_METHODS];

async function dispatch(req: DavRequest): Promise<void> {
  // Every path below /dav/<user>/ belongs to <user>: checked before anything else is looked at.
  checkOwner(req);
  switch (req.request.method) {
    case 'PROPFIND':
      return propfind(req);
    case 'PROPPATCH':
      return proppatch(req);
    case 'REPORT':
      return report(req);
    case 'GET':
      return get(req, false);
    case 'HEAD':
      return get(req, true);
    case 'PUT':
      return put(req);
    case 'DELETE':
      return remove(req);
    case 'MKCOL':
      return mkcol(req, false);
    case 'MKCALENDAR':
      return mkcol(req, true);
    case 'COPY':
      return copyMove(req, false);
    case 'MOVE':
      return copyMove(req, true);
    default:
      fail('method_not_allowed', `${req.request.method} is not supported here`);
  }
}

/** Adds the DAV routes. DAV routes are marked `config.dav` (test/dav/authorization covers each method). */
export function davRoutes(app: FastifyInstance, { keepsake, auth }: RouteContext): void {
  for (const m of EXTRA_METHODS) if (!app.supportedMethods.includes(m)) app.addHttpMethod(m, { hasBody: true });
  const { dav, folders } = davServicesOf(keepsake);
  const davAuth = new DavAuth(keepsake.accounts, keepsake.store, () => keepsake.clock.now());

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    davHeaders(reply);
    try {
      // OPTIONS is answered without credentials: clients probe capabilities before logging in (RFC 4791 §5.1).
      if (request.method === 'OPTIONS') return options(reply);
      // A raw '#' cannot be part of a request-target (RFC 3986 §3.5); cutting the fragment off would
      // make "DELETE /folder/#frag" delete the folder, so such a request is refused.
      if (request.url.includes('#')) fail('invalid_request', 'the request URL holds a raw "#"; percent-encode it as %23');
      const target = parseDavPath(request.url);
      const { user, device } = await davAuth.authenticate(request);
      await dispatch({ keepsake, dav, folders, request, reply, user, device, target });
    } catch (e) {
      // Drain an unread body so the connection stays usable for the client's next request.
      if (!request.raw.readableEnded) request.raw.resume();
      // An error may reveal what an unsettled read saw (a write's precondition, a name in use):
      // it is answered only once that is durable, like every other answer.
      const settled = await dav.settled().then(
        () => null,
        (error: unknown) => error,
      );
      sendDavError(settled ?? e, request, reply);
    }
    return reply;
  };
  // Own scope: DAV bodies (XML, vCard, iCalendar, images, even text/plain from some clients) are
  // read raw by the methods, so no parser of the API (JSON, text) may consume them first.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    scope.route({ method: DAV_METHODS, url: '/dav', handler, config: { dav: true } });
    scope.route({ method: DAV_METHODS, url: '/dav/*', handler, config: { dav: true } });
  });

  // RFC 6764 §5: service discovery by well-known URI, redirecting to the context path.
  const wellKnown = async (request: FastifyRequest, reply: FastifyReply) => {
    davHeaders(reply);
    if (request.method === 'OPTIONS') return options(reply);
    return reply.status(301).header('location', DAV_ROOT).send();
  };
  for (const url of ['/.well-known/caldav', '/.well-known/carddav']) {
    app.route({ method: ['GET', 'HEAD', 'PROPFIND', 'OPTIONS'], url, handler: wellKnown, config: { dav: true } });
  }

  // The single action that undoes a device's (mass) deletion over DAV.
  app.post<{ Body: unknown }>('/api/v1/undo-deletes', { preHandler: auth.bearer }, async (request) => {
    const body = request.body as Record<string, unknown> | undefined;
    const device = body?.device;
    const since = typeof body?.since === 'string' ? Date.parse(body.since) : NaN;
    if (typeof device !== 'string' || device === '') fail('invalid_request', 'device must be the device name or token id shown in /api/v1/status', { field: 'device' });
    if (Number.isNaN(since)) fail('invalid_request', 'since must be an ISO-8601 time', { field: 'since' });
    for (const k of Object.keys(body ?? {})) if (k !== 'device' && k !== 'since') fail('invalid_request', `unknown field "${k}"`, { field: k });
    return dav.undoDeletes(userOf(request), device, since);
  });
}
