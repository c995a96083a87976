// OPTIONS: the DAV compliance classes (RFC 4918 §10.1, RFC 4791 §5.1, RFC 6352 §6.1) and allowed methods.
import type { FastifyReply } from 'fastify';

export const ALLOWED = 'OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL, MKCALENDAR, COPY, MOVE';

export function davHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('dav', '1, 3, calendar-access, addressbook, extended-mkcol').header('allow', ALLOWED);
}

export function options(reply: FastifyReply): void {
  davHeaders(reply).status(200).header('content-length', '0').send();
}
