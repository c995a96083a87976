// GET and HEAD: an item's stored bytes (vCard, iCalendar; photo folders in photo-files.ts) with its ETag.
import { etagOf } from '../../core/dav/dav-service.js';
import { fail } from '../../core/errors.js';
import type { DavRequest } from '../dav-request.js';
import { checkOwner, collectionOf, itemAt } from '../resources.js';
import { photoGet } from './photo-files.js';

const TYPES = { contacts: 'text/vcard; charset=utf-8', calendar: 'text/calendar; charset=utf-8', tasks: 'text/calendar; charset=utf-8' } as const;

export async function get(req: DavRequest, head: boolean): Promise<void> {
  const t = req.target;
  checkOwner(req);
  if (t.type !== 'item') {
    // Browsers and some clients GET a collection: say what it is instead of an error page.
    if (t.type === 'collection') await collectionOf(req);
    req.reply.status(200).header('content-type', 'text/plain; charset=utf-8').send(head ? undefined : 'Keepsake CalDAV/CardDAV/WebDAV: use a DAV client (docs/dav-clients.md)\n');
    return;
  }
  const col = await collectionOf(req);
  if (col.kind === 'photos') return photoGet(req, col, head);
  const { item } = await itemAt(req, col, t.name);
  if (!item) fail('not_found', `no resource "${t.name}"`);
  const reply = req.reply.header('etag', etagOf(item)).header('last-modified', new Date(item.modified).toUTCString());
  const body = Buffer.from(item.content ?? '', 'utf8');
  reply.header('content-type', TYPES[col.kind as keyof typeof TYPES] ?? 'application/octet-stream').header('content-length', String(body.length));
  reply.status(200).send(head ? undefined : body);
}
