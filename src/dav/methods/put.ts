// PUT (RFC 4791 §5.3.2, RFC 6352 §6.3.2): a vCard or iCalendar object (files into photo folders: photo-files.ts).
import { isUtf8 } from 'node:buffer';
import { fail } from '../../core/errors.js';
import { etagOf } from '../../core/dav/dav-service.js';
import { type DavRequest, preconditionsOf, readBody } from '../dav-request.js';
import { collectionOf, keepResourceName, resourceForWrite } from '../resources.js';
import { uidOf } from '../../core/dav/resource-uid.js';
import { checkId } from '../../core/ids.js';
import { photoPut } from './photo-files.js';

export async function put(req: DavRequest): Promise<void> {
  const t = req.target;
  if (t.type !== 'item') fail('method_not_allowed', 'PUT creates or replaces a resource inside a collection');
  const pre = preconditionsOf(req.request);
  if (!/\.(vcf|ics)$/i.test(t.name)) {
    const col = await collectionOf(req);
    if (col.kind === 'photos') return photoPut(req, col);
  }
  const { col, id, current } = await resourceForWrite(req, t);
  if (col.kind === 'photos') return photoPut(req, col);
  const item = current && !current.deleted ? current : null;
  let result;
  {
    const bytes = await readBody(req.request, 1024 * 1024 + 1);
    // Checked on the bytes: decoding would silently turn bad sequences into U+FFFD.
    if (!isUtf8(bytes)) fail(col.kind === 'contacts' ? 'invalid_vcard' : 'invalid_icalendar', 'the body is not UTF-8 text');
    const text = bytes.toString('utf8');
    let target = id;
    let known: typeof current | undefined = current;
    const uid = item ? null : uidOf(text, id);
    if (uid !== null && uid !== id) {
      // A new resource the client named other than <UID>.ext: the item is the UID, the name is kept.
      if (await req.dav.item(req.user, col.id, uid)) {
        fail('uid_mismatch', `UID "${uid.slice(0, 80)}" is already used by another resource in this collection (RFC 4791 §5.3.2.1 no-uid-conflict)`);
      }
      checkId(uid, 'UID');
      // The name is recorded first: if the item write then fails, a name without an item is harmless.
      await keepResourceName(req, col, uid, t.name);
      target = uid;
      known = undefined;
    }
    result = await req.dav.putText(req.user, col, target, text, pre, known);
  }
  // The stored bytes are exactly the client's, so the strong ETag may be returned (RFC 4791 §5.3.4).
  req.reply.status(result.created ? 201 : 204).header('etag', etagOf(result)).send();
}
