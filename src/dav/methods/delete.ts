// DELETE: an item goes to the trash (restorable); a collection is soft-deleted with its items kept.
import { fail } from '../../core/errors.js';
import { type DavRequest, preconditionsOf } from '../dav-request.js';
import { collectionOf, itemAt } from '../resources.js';
import { photoDelete } from './photo-files.js';

export async function remove(req: DavRequest): Promise<void> {
  const t = req.target;
  if (t.type === 'root' || t.type === 'home') fail('method_not_allowed', 'a home or the root cannot be deleted');
  const col = await collectionOf(req);
  if (t.type === 'collection') {
    await req.dav.deleteCollection(req.user, col.id);
    return void req.reply.status(204).send();
  }
  if (col.kind === 'photos') return photoDelete(req, col);
  const { id, item } = await itemAt(req, col, t.name);
  if (!item) fail('not_found', `no resource "${t.name}"`);
  await req.dav.deleteItem(req.user, req.device, col, id, preconditionsOf(req.request));
  req.reply.status(204).send();
}
