// COPY and MOVE (RFC 4918 §9.8, §9.9) of a resource within the user's own collections of the same kind.
import { fail } from '../../core/errors.js';
import { etagOf } from '../../core/dav/dav-service.js';
import { type DavRequest, destinationOf } from '../dav-request.js';
import { collectionOf, itemAt } from '../resources.js';
import { photoCopyMove } from './photo-files.js';

export async function copyMove(req: DavRequest, move: boolean): Promise<void> {
  const t = req.target;
  if (t.type !== 'item' && t.type !== 'collection') fail('forbidden', 'only resources can be copied or moved, not collections');
  const src = await collectionOf(req);
  if (src.kind === 'photos') return photoCopyMove(req, src, move);
  if (t.type !== 'item') fail('forbidden', 'only resources can be copied or moved, not collections');
  const { id, item } = await itemAt(req, src, t.name);
  if (!item) fail('not_found', `no resource "${t.name}"`);
  const dest = destinationOf(req.request);
  if (dest.type !== 'item') fail('forbidden', 'the Destination must be a resource inside a collection');
  const destCol = await collectionOf(req, dest);
  if (destCol.kind !== src.kind) fail('forbidden', `a ${src.kind} resource cannot go into a ${destCol.kind} collection`);
  const target = await itemAt(req, destCol, dest.name);
  if (destCol.id === src.id && target.id === id) fail('forbidden', 'the source and destination are the same resource');
  const overwrite = String(req.request.headers.overwrite ?? 'T').toUpperCase() !== 'F';
  if (target.item && !overwrite) fail('precondition_failed', 'the destination exists and Overwrite is F');
  // vCard/iCalendar resources are named by their UID, so only a move between collections keeps the name.
  const result = await req.dav.putText(req.user, destCol, target.id, item.content ?? '', {});
  if (move) await req.dav.deleteItem(req.user, req.device, src, id, { ifMatch: [etagOf(item)] });
  req.reply.status(target.item ? 204 : 201).header('etag', etagOf(result)).send();
}
