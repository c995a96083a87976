// PUT (RFC 4791 §5.3.2, RFC 6352 §6.3.2): a vCard or iCalendar object, or an image into a photos collection.
import { fail } from '../../core/errors.js';
import { etagOf } from '../../core/dav/dav-service.js';
import { type DavRequest, preconditionsOf, readBody } from '../dav-request.js';
import { collectionOf, itemAt } from '../resources.js';

export async function put(req: DavRequest): Promise<void> {
  const t = req.target;
  if (t.type !== 'item') fail('method_not_allowed', 'PUT creates or replaces a resource inside a collection');
  const col = await collectionOf(req);
  const pre = preconditionsOf(req.request);
  const { id } = await itemAt(req, col, t.name);
  let result;
  if (col.kind === 'photos') {
    const bytes = await readBody(req.request, req.keepsake.config.maxPhotoBytes);
    result = await req.dav.putPhoto(req.user, col, id, bytes, pre);
  } else {
    const bytes = await readBody(req.request, 1024 * 1024 + 1);
    const text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) fail(col.kind === 'contacts' ? 'invalid_vcard' : 'invalid_icalendar', 'the body is not UTF-8 text');
    result = await req.dav.putText(req.user, col, id, text, pre);
  }
  // The stored bytes are exactly the client's, so the strong ETag may be returned (RFC 4791 §5.3.4).
  req.reply.status(result.created ? 201 : 204).header('etag', etagOf(result)).send();
}
