// WebDAV on photo collections (RFC 4918): files and nested folders, each a photos item; PROPFIND, GET, PUT, DELETE, MKCOL, COPY, MOVE.
import { Readable } from 'node:stream';
import { etagOf } from '../../core/dav/dav-service.js';
import type { PhotoTree } from '../../core/dav/photo-tree.js';
import { fail } from '../../core/errors.js';
import type { Collection } from '../../core/model.js';
import { type DavRequest, depthOf, destinationOf, preconditionsOf, readBody } from '../dav-request.js';
import { pathInCollection, photoHref } from '../dav-paths.js';
import { type DavResource, describe } from '../properties.js';
import { checkOwner, collectionOf, propertyEnv, sendMultistatus } from '../resources.js';
import { responseElement } from '../xml.js';

/** Content types for files whose bytes are not an image, by extension, for GET (the stored type stays what the bytes are). */
const TYPE_BY_EXTENSION: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  xmp: 'application/rdf+xml',
  aae: 'application/xml',
  txt: 'text/plain; charset=utf-8',
};

function servedType(name: string, stored: string): string {
  if (stored !== 'application/octet-stream') return stored;
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return TYPE_BY_EXTENSION[ext] ?? stored;
}

/** The file or folder a path names in the tree, with its href; null when nothing is there. */
export function photoResource(userName: string, col: Collection, tree: PhotoTree, path: string): { href: string; r: DavResource; dead: Map<string, string> } | null {
  if (path === '') return null;
  const entry = tree.entry(path);
  if (entry && !entry.folder) return { href: photoHref(userName, col.id, path, false), r: { type: 'item', col, item: entry.item }, dead: new Map(Object.entries(entry.meta.props ?? {})) };
  if (!tree.isFolder(path)) return null;
  return { href: photoHref(userName, col.id, path, true), r: { type: 'folder', col, path, item: entry?.item ?? null }, dead: new Map(Object.entries(entry?.meta.props ?? {})) };
}

/** PROPFIND below a photo collection (the collection itself is answered by propfind.ts). */
export async function photoPropfind(req: DavRequest, col: Collection, depth: '0' | '1', wanted: string[] | 'allprop' | 'propname'): Promise<void> {
  const path = pathInCollection(req.target);
  const tree = await req.folders.tree(req.user, col);
  const env = await propertyEnv(req);
  const self = photoResource(req.user.name, col, tree, path);
  if (!self) fail('not_found', `no file or folder "${path}"`);
  const list = [self];
  if (depth === '1' && self.r.type === 'folder') {
    for (const c of tree.children(path)) list.push(photoResource(req.user.name, col, tree, c.path)!);
  }
  sendMultistatus(req, list.map((x) => responseElement(describe(x.href, x.r, env, wanted, x.dead))));
}

/** The members of a photo collection for a Depth 1 PROPFIND on it. */
export async function photoMembers(req: DavRequest, col: Collection): Promise<Array<{ href: string; r: DavResource; dead: Map<string, string> }>> {
  const tree = await req.folders.tree(req.user, col);
  return tree.children('').map((c) => photoResource(req.user.name, col, tree, c.path)!);
}

export async function photoGet(req: DavRequest, col: Collection, head: boolean): Promise<void> {
  const path = pathInCollection(req.target);
  const tree = await req.folders.tree(req.user, col);
  const entry = tree.entry(path);
  if (!entry || entry.folder) {
    if (!tree.isFolder(path)) fail('not_found', `no file or folder "${path}"`);
    return void req.reply.status(200).header('content-type', 'text/plain; charset=utf-8').send(head ? undefined : 'a Keepsake photo folder: use a WebDAV client to list it\n');
  }
  const reply = req.reply
    .header('etag', etagOf(entry.item))
    .header('last-modified', new Date(entry.item.modified).toUTCString())
    .header('content-type', servedType(entry.meta.name, entry.meta.type))
    .header('content-length', String(entry.meta.size));
  if (head) return void reply.status(200).send();
  const b = await req.dav.readPhoto(req.user, entry.meta.blob);
  reply.status(200).send(Readable.from(b.body));
}

export async function photoPut(req: DavRequest, col: Collection): Promise<void> {
  const bytes = await readBody(req.request, req.keepsake.config.maxPhotoBytes);
  const result = await req.folders.putFile(req.user, col, pathInCollection(req.target), bytes, preconditionsOf(req.request));
  // The stored bytes are exactly the client's, so the strong ETag may be returned.
  req.reply.status(result.created ? 201 : 204).header('etag', etagOf(result)).send();
}

export async function photoDelete(req: DavRequest, col: Collection): Promise<void> {
  await req.folders.remove(req.user, req.device, col, pathInCollection(req.target), preconditionsOf(req.request));
  req.reply.status(204).send();
}

/** MKCOL of a subfolder (RFC 4918 §9.3): no body is understood (415), an existing path is 405, a missing parent 409. */
export async function photoMkcol(req: DavRequest, col: Collection): Promise<void> {
  const body = await readBody(req.request, 1024 * 1024);
  if (body.length > 0) return void req.reply.status(415).header('content-type', 'text/plain').send('MKCOL of a photo folder takes no body');
  const path = pathInCollection(req.target);
  await req.folders.makeFolder(req.user, col, path);
  req.reply.status(201).header('location', photoHref(req.user.name, col.id, path, true)).header('content-length', '0').send();
}

/** COPY and MOVE of files and folders within and between the user's photo collections (RFC 4918 §9.8, §9.9). */
export async function photoCopyMove(req: DavRequest, col: Collection, move: boolean): Promise<void> {
  const from = pathInCollection(req.target);
  if (from === '') fail('forbidden', 'a whole collection cannot be copied or moved; copy the folders inside it');
  const dest = destinationOf(req.request);
  checkOwner(req, dest);
  if (dest.type !== 'item') fail('forbidden', 'the Destination must be a file or folder inside a photo collection');
  const destCol = await collectionOf(req, dest);
  if (destCol.kind !== 'photos') fail('forbidden', `a photo folder's file cannot go into a ${destCol.kind} collection`);
  const depth = depthOf(req.request, 'infinity');
  // RFC 4918 §9.8.3: COPY of a collection takes Depth 0 or infinity; §9.9.2: MOVE acts as infinity.
  if (depth === '1' || (move && depth !== 'infinity')) fail('invalid_request', `${move ? 'MOVE' : 'COPY'} does not take Depth: ${depth}`);
  const overwrite = String(req.request.headers.overwrite ?? 'T').trim().toUpperCase() !== 'F';
  const { replaced } = await req.folders.transfer(
    req.user,
    req.device,
    { from: { col, path: from }, to: { col: destCol, path: pathInCollection(dest) }, overwrite, shallow: depth === '0' },
    move,
  );
  req.reply.status(replaced ? 204 : 201).send();
}
