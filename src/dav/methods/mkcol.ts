// MKCALENDAR (RFC 4791 §5.3.1) and MKCOL, plain or extended (RFC 5689): a new calendar, task list, address book or photo folder.
import { fail, isKeepsakeError } from '../../core/errors.js';
import type { Kind } from '../../core/kinds.js';
import { type DavRequest, xmlBody } from '../dav-request.js';
import { collectionHref } from '../dav-paths.js';
import { isProtected } from '../properties.js';
import { checkOwner, collectionOf } from '../resources.js';
import { photoMkcol } from './photo-files.js';
import { child, children, clark, NS, type XmlElement } from '../xml.js';
import { propertyUpdates } from './proppatch.js';

const DISPLAYNAME = clark(NS.dav, 'displayname');
const RESOURCETYPE = clark(NS.dav, 'resourcetype');
const COMPONENTS = clark(NS.caldav, 'supported-calendar-component-set');

/** A calendar holding only VTODOs is a task list; anything else with calendar components is a calendar. */
function calendarKind(prop: XmlElement | undefined): Kind {
  const comps = children(child(prop, NS.caldav, 'supported-calendar-component-set'), NS.caldav, 'comp').map((c) => (c.attrs.name ?? '').toUpperCase());
  return comps.includes('VTODO') && !comps.includes('VEVENT') ? 'tasks' : 'calendar';
}

export async function mkcol(req: DavRequest, calendar: boolean): Promise<void> {
  const t = req.target;
  if (t.type === 'item') {
    checkOwner(req);
    // RFC 4918 §9.3.1: a missing parent is 409 Conflict.
    const parent = (await req.dav.collections(req.user)).find((c) => c.id === t.collection);
    if (!parent) return void req.reply.status(409).header('content-type', 'text/plain').send(`no collection "${t.collection}" to create it in`);
    if (parent.kind === 'photos' && !calendar) return photoMkcol(req, await collectionOf(req));
    fail('forbidden', 'only photo folders nest: create calendars and address books directly in your home /dav/<user>/');
  }
  if (t.type !== 'collection') fail('method_not_allowed', 'this resource already exists');
  checkOwner(req);
  let body;
  try {
    body = await xmlBody(req);
  } catch (e) {
    // RFC 4918 §9.3: a body the server does not understand is 415 Unsupported Media Type.
    if (!calendar && isKeepsakeError(e) && e.code === 'invalid_xml') return void req.reply.status(415).header('content-type', 'text/plain').send(e.message);
    throw e;
  }
  const expected = calendar ? [NS.caldav, 'mkcalendar'] : [NS.dav, 'mkcol'];
  if (body && (body.ns !== expected[0] || body.name !== expected[1])) {
    // RFC 4918 §9.3: a MKCOL body the server does not understand is 415.
    if (!calendar) return void req.reply.status(415).header('content-type', 'text/plain').send('unsupported MKCOL body');
    fail('invalid_xml', 'a MKCALENDAR body must be a CALDAV:mkcalendar element');
  }
  const updates = body ? propertyUpdates(body) : [];
  const prop = body ? children(child(body, NS.dav, 'set'), NS.dav, 'prop').find((p) => p.children.length > 0) : undefined;
  let kind: Kind = calendar ? calendarKind(prop) : 'photos';
  if (!calendar) {
    const rt = child(prop, NS.dav, 'resourcetype');
    if (child(rt, NS.caldav, 'calendar')) kind = calendarKind(prop);
    else if (child(rt, NS.carddav, 'addressbook')) kind = 'contacts';
  }
  const name = updates.find((u) => u.key === DISPLAYNAME)?.text.trim() || t.collection;
  const bad = updates.filter((u) => u.key !== DISPLAYNAME && u.key !== RESOURCETYPE && u.key !== COMPONENTS && isProtected(u.key));
  if (bad.length > 0) fail('forbidden', `cannot set protected properties: ${bad.map((u) => u.key).join(', ')}`);
  try {
    await req.dav.collection(req.user, t.collection);
    // RFC 4918 §9.3.1: MKCOL on an existing resource is 405.
    return void req.reply.status(405).header('content-type', 'text/plain').send('the collection already exists');
  } catch (e) {
    if (!isKeepsakeError(e) || e.code !== 'collection_not_found') throw e;
  }
  await req.dav.createCollection(req.user, t.collection, kind, name);
  const dead: Record<string, string> = {};
  for (const u of updates) if (u.value !== null && u.key !== DISPLAYNAME && u.key !== RESOURCETYPE && u.key !== COMPONENTS) dead[u.key] = u.value;
  if (Object.keys(dead).length > 0) await req.dav.setProperties(req.user, t.collection, '', dead);
  req.reply.status(201).header('location', collectionHref(req.user.name, t.collection)).header('content-length', '0').send();
}
