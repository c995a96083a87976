// PROPPATCH (RFC 4918 §9.2): display name, colour, descriptions and dead properties, all or nothing.
import { fail } from '../../core/errors.js';
import { type DavRequest, xmlBody } from '../dav-request.js';
import { type DavResource, hrefOf, isProtected } from '../properties.js';
import { collectionOf, itemAt, NAME_PROP, resourceNames, sendMultistatus } from '../resources.js';
import { clark, children, NS, responseElement, textOf, type XmlElement } from '../xml.js';
import { pathInCollection } from '../dav-paths.js';
import { photoResource } from './photo-files.js';

const DISPLAYNAME = clark(NS.dav, 'displayname');

/** Dead properties kept for a collection or item (colour, descriptions, anything a client sets). */
export async function deadPropertiesOf(req: DavRequest, r: DavResource): Promise<Map<string, string>> {
  if (r.type !== 'collection' && r.type !== 'item') return new Map();
  const props = await req.dav.properties(req.user, r.col.id, r.type === 'item' ? r.item.id : '');
  return new Map(Object.entries(props).filter(([k]) => k !== NAME_PROP));
}

/** A `set` or `remove` instruction from a PROPPATCH or extended MKCOL body, in document order. */
export interface PropertyUpdate {
  key: string;
  /** Inner XML to store, or null to remove. */
  value: string | null;
  text: string;
}

export function propertyUpdates(root: XmlElement): PropertyUpdate[] {
  const out: PropertyUpdate[] = [];
  for (const op of root.children) {
    if (op.ns !== NS.dav || (op.name !== 'set' && op.name !== 'remove')) continue;
    for (const prop of children(op, NS.dav, 'prop')) {
      for (const p of prop.children) out.push({ key: clark(p.ns, p.name), value: op.name === 'set' ? p.inner : null, text: textOf(p) });
    }
  }
  return out;
}

export async function proppatch(req: DavRequest): Promise<void> {
  const body = await xmlBody(req);
  if (!body || body.ns !== NS.dav || body.name !== 'propertyupdate') fail('invalid_xml', 'a PROPPATCH body must be a DAV:propertyupdate element');
  const t = req.target;
  if (t.type !== 'collection' && t.type !== 'item') fail('method_not_allowed', 'PROPPATCH applies to collections and their resources');
  const col = await collectionOf(req);
  let r: DavResource = { type: 'collection', col };
  let href = hrefOf(req.user.name, r);
  const photoPath = col.kind === 'photos' ? pathInCollection(t) : '';
  if (photoPath !== '') {
    // A file or folder inside a photo collection: its dead properties live in its item.
    const found = photoResource(req.user.name, col, await req.folders.tree(req.user, col), photoPath);
    if (!found) fail('not_found', `no file or folder "${photoPath}"`);
    ({ href, r } = found);
  } else if (t.type === 'item') {
    const { item } = await itemAt(req, col, t.name);
    if (!item) fail('not_found', `no resource "${t.name}"`);
    r = { type: 'item', col, item };
    href = (await resourceNames(req, col)).href(item.id);
  }
  const updates = propertyUpdates(body);
  // RFC 4918 §9.2: all or nothing. A protected property fails with 403 and every other one with 424.
  const refused = updates.filter((u) => isProtected(u.key) || u.key === NAME_PROP || (u.key === DISPLAYNAME && (r.type !== 'collection' || (u.value !== null && u.text.trim() === ''))));
  if (refused.length > 0) {
    const bad = new Set(refused.map((u) => u.key));
    const failed = new Map<number, string[]>([
      [403, [...bad]],
      [424, [...new Set(updates.map((u) => u.key).filter((k) => !bad.has(k)))]],
    ]);
    sendMultistatus(req, [responseElement({ href, found: new Map(), failed })]);
    return;
  }
  const dead: Record<string, string | null> = {};
  for (const u of updates) {
    if (u.key === DISPLAYNAME) {
      if (u.value !== null) await req.dav.renameCollection(req.user, col.id, u.text.trim());
    } else dead[u.key] = u.value;
  }
  if (Object.keys(dead).length > 0 && photoPath !== '') await req.folders.setProperties(req.user, col, photoPath, dead);
  else if (Object.keys(dead).length > 0) await req.dav.setProperties(req.user, col.id, r.type === 'item' ? r.item.id : '', dead);
  const ok = new Map(updates.map((u) => [u.key, '']));
  sendMultistatus(req, [responseElement({ href, found: ok, failed: new Map() })]);
}
