// PROPFIND (RFC 4918 §9.1): Depth 0 and 1 on the root, a user's home, a collection or an item.
import { fail } from '../../core/errors.js';
import { type DavRequest, depthOf, xmlBody } from '../dav-request.js';
import { type DavResource, describe, hrefOf } from '../properties.js';
import { checkOwner, collectionOf, DAV_KINDS, itemAt, NAME_PROP, propertyEnv, resourceNames, sendMultistatus } from '../resources.js';
import { clark, child, NS, responseElement, type XmlElement } from '../xml.js';
import { photoMembers, photoPropfind } from './photo-files.js';
import { deadPropertiesOf } from './proppatch.js';

/** What a PROPFIND body asks for: an empty body means allprop (RFC 4918 §9.1). */
export function wantedProperties(body: XmlElement | null): string[] | 'allprop' | 'propname' {
  if (body === null) return 'allprop';
  if (body.ns !== NS.dav || body.name !== 'propfind') fail('invalid_xml', 'a PROPFIND body must be a DAV:propfind element');
  if (child(body, NS.dav, 'propname')) return 'propname';
  if (child(body, NS.dav, 'allprop')) return 'allprop';
  const prop = child(body, NS.dav, 'prop');
  if (!prop) fail('invalid_xml', 'DAV:propfind needs DAV:prop, DAV:allprop or DAV:propname');
  return prop.children.map((c) => clark(c.ns, c.name));
}

export async function propfind(req: DavRequest): Promise<void> {
  // Without a Depth header RFC 4918 means infinity, but clients that omit it expect the resource
  // itself (as Radicale and others answer); an explicit infinity is refused with
  // DAV:propfind-finite-depth, which RFC 4918 §9.1 allows.
  const depth = depthOf(req.request, '0');
  if (depth === 'infinity') fail('depth_not_supported', 'PROPFIND with Depth: infinity is not supported; use Depth 0 or 1');
  const wanted = wantedProperties(await xmlBody(req));
  const t = req.target;
  checkOwner(req);
  const env = await propertyEnv(req);
  const user = req.user.name;
  const list: Array<{ href: string; r: DavResource }> = [];
  if (t.type === 'root') {
    list.push({ href: '/dav/', r: { type: 'root' } });
    if (depth === '1') list.push({ href: hrefOf(user, { type: 'home' }), r: { type: 'home' } });
  } else if (t.type === 'home') {
    list.push({ href: hrefOf(user, { type: 'home' }), r: { type: 'home' } });
    if (depth === '1') {
      for (const col of await req.dav.collections(req.user)) {
        if (DAV_KINDS.includes(col.kind)) list.push({ href: hrefOf(user, { type: 'collection', col }), r: { type: 'collection', col } });
      }
    }
  } else if (t.type === 'collection') {
    const col = await collectionOf(req);
    list.push({ href: hrefOf(user, { type: 'collection', col }), r: { type: 'collection', col } });
    if (depth === '1' && col.kind === 'photos') {
      const responses = [responseElement(describe(list[0].href, list[0].r, env, wanted, await deadPropertiesOf(req, list[0].r)))];
      for (const m of await photoMembers(req, col)) responses.push(responseElement(describe(m.href, m.r, env, wanted, m.dead)));
      return sendMultistatus(req, responses);
    }
    if (depth === '1') {
      const names = await resourceNames(req, col);
      for (const item of await req.dav.liveItems(req.user, col.id)) list.push({ href: names.href(item.id), r: { type: 'item', col, item } });
    }
  } else {
    const col = await collectionOf(req);
    if (col.kind === 'photos') return photoPropfind(req, col, depth, wanted);
    const { item } = await itemAt(req, col, t.name);
    if (!item) fail('not_found', `no resource "${t.name}"`);
    list.push({ href: (await resourceNames(req, col)).href(item.id), r: { type: 'item', col, item } });
  }
  const responses: string[] = [];
  const all = t.type === 'collection' && depth === '1' ? await req.dav.allProperties(req.user, t.collection) : null;
  for (const { href, r } of list) {
    let dead = new Map<string, string>();
    if (all && (r.type === 'collection' || r.type === 'item')) {
      dead = new Map(Object.entries(all.get(r.type === 'item' ? r.item.id : '') ?? {}).filter(([k]) => k !== NAME_PROP));
    } else if (r.type === 'collection' || r.type === 'item') dead = await deadPropertiesOf(req, r);
    responses.push(responseElement(describe(href, r, env, wanted, dead)));
  }
  sendMultistatus(req, responses);
}
