// REPORT: calendar-multiget, calendar-query (RFC 4791 §7.8-7.9), addressbook-multiget, addressbook-query (RFC 6352 §8.6-8.7), sync-collection (RFC 6578).
import { addressbookMatches } from '../../core/dav/addressbook-query.js';
import {
  calendarMatches,
  type CompFilter,
  expandCalendar,
  type ParamFilter,
  parseUtcDateTime,
  type PropFilter,
  type TextMatch,
  type TimeRange,
} from '../../core/dav/calendar-query.js';
import { fail, isKeepsakeError } from '../../core/errors.js';
import type { Collection, StoredItem } from '../../core/model.js';
import { type DavRequest, xmlBody } from '../dav-request.js';
import { itemIdOf, parseDavPath, photoHref } from '../dav-paths.js';
import type { DavChanges } from '../../core/dav/dav-service.js';
import { pathOfMeta } from '../../core/dav/photo-tree.js';
import { FOLDER_TYPE } from '../../core/content/photo-content.js';
import type { PhotoContent } from '../../protocol/sync-protocol.js';
import { photoResource } from './photo-files.js';
import { describe, type PropertyEnv, responseWriter } from '../properties.js';
import { collectionOf, itemAt, NAME_PROP, propertyEnv, ResourceNames, sendMultistatus } from '../resources.js';
import { child, children, clark, davElement, escapeXml, hrefElement, NS, responseElement, statusLine, statusResponse, textOf, type XmlElement } from '../xml.js';
import { wantedProperties } from './propfind.js';

/** Most hrefs one multiget may name. */
const MAX_HREFS = 10_000;

function timeRangeOf(el: XmlElement | undefined): TimeRange | null {
  if (!el) return null;
  const start = el.attrs.start ? parseUtcDateTime(el.attrs.start, 'time-range start') : null;
  const end = el.attrs.end ? parseUtcDateTime(el.attrs.end, 'time-range end') : null;
  if (start === null && end === null) fail('invalid_xml', 'a time-range needs a start or an end (RFC 4791 §9.9)');
  return { start, end };
}

function textMatchOf(el: XmlElement): TextMatch {
  const collation = el.attrs.collation ?? 'i;ascii-casemap';
  if (!['i;ascii-casemap', 'i;unicode-casemap', 'i;octet'].includes(collation)) fail('invalid_xml', `unsupported collation "${collation.slice(0, 40)}"`);
  const matchType = (el.attrs['match-type'] ?? 'contains') as TextMatch['matchType'];
  if (!['equals', 'contains', 'starts-with', 'ends-with'].includes(matchType)) fail('invalid_xml', `unsupported match-type "${String(matchType).slice(0, 40)}"`);
  return { text: textOf(el), caseless: collation !== 'i;octet', negate: el.attrs['negate-condition'] === 'yes', matchType };
}

function paramFilterOf(el: XmlElement, ns: string): ParamFilter {
  const tm = child(el, ns, 'text-match');
  return { name: el.attrs.name ?? '', isNotDefined: child(el, ns, 'is-not-defined') !== undefined, textMatch: tm ? textMatchOf(tm) : null };
}

function propFilterOf(el: XmlElement, ns: string): PropFilter {
  if (!el.attrs.name) fail('invalid_xml', 'a prop-filter needs a name');
  return {
    name: el.attrs.name,
    isNotDefined: child(el, ns, 'is-not-defined') !== undefined,
    timeRange: timeRangeOf(child(el, ns, 'time-range')),
    textMatches: children(el, ns, 'text-match').map((t) => textMatchOf(t)),
    params: children(el, ns, 'param-filter').map((p) => paramFilterOf(p, ns)),
    allOf: el.attrs.test === 'allof',
  };
}

function compFilterOf(el: XmlElement): CompFilter {
  if (!el.attrs.name) fail('invalid_xml', 'a comp-filter needs a name');
  return {
    name: el.attrs.name,
    isNotDefined: child(el, NS.caldav, 'is-not-defined') !== undefined,
    timeRange: timeRangeOf(child(el, NS.caldav, 'time-range')),
    props: children(el, NS.caldav, 'prop-filter').map((p) => propFilterOf(p, NS.caldav)),
    comps: children(el, NS.caldav, 'comp-filter').map(compFilterOf),
  };
}

/** Properties asked for in a REPORT body, and calendar-data's expand range if any. */
function reportProps(body: XmlElement): { wanted: string[] | 'allprop' | 'propname'; expand: TimeRange | null } {
  const prop = child(body, NS.dav, 'prop');
  const wanted = prop ? prop.children.map((c) => clark(c.ns, c.name)) : child(body, NS.dav, 'allprop') ? 'allprop' : [clark(NS.dav, 'getetag')];
  const expandEl = child(child(prop, NS.caldav, 'calendar-data'), NS.caldav, 'expand');
  const expand = expandEl ? timeRangeOf(expandEl) : null;
  if (expandEl && (!expand || expand.start === null || expand.end === null)) fail('invalid_xml', 'CALDAV:expand needs both start and end (RFC 4791 §9.6.5)');
  return { wanted, expand };
}

const NO_PROPERTIES = new Map<string, string>();

async function responsesFor(req: DavRequest, col: Collection, items: StoredItem[], wanted: string[] | 'allprop' | 'propname', env: PropertyEnv): Promise<string[]> {
  return (await responsesWithNames(req, col, items, wanted, env)).responses;
}

/** The responses for `items`, and the collection's resource names (one read of its DAV properties serves both). */
async function responsesWithNames(
  req: DavRequest,
  col: Collection,
  items: StoredItem[],
  wanted: string[] | 'allprop' | 'propname',
  env: PropertyEnv,
): Promise<{ responses: string[]; names: ResourceNames }> {
  const all = await req.dav.allProperties(req.user, col.id);
  const names = new ResourceNames(req.user.name, col, all);
  const fast = Array.isArray(wanted) ? responseWriter(wanted, env) : null;
  const responses = items.map((item) => {
    const props = all.get(item.id);
    if (fast && !props) return fast(names.href(item.id), { type: 'item', col, item });
    const dead = props ? new Map(Object.entries(props).filter(([k]) => k !== NAME_PROP)) : NO_PROPERTIES;
    return responseElement(describe(names.href(item.id), { type: 'item', col, item }, env, wanted, dead));
  });
  return { responses, names };
}

/**
 * Resolves resource names of a collection from one read of its live items and one of its DAV
 * properties (a multiget of a thousand hrefs would otherwise read the store thousands of times).
 * Same answers as `itemAt`.
 */
async function collectionIndex(req: DavRequest, col: Collection): Promise<(name: string) => StoredItem | null> {
  const [items, all] = await Promise.all([req.dav.liveItems(req.user, col.id), req.dav.allProperties(req.user, col.id)]);
  const byId = new Map(items.map((i) => [i.id, i]));
  const byName = new Map<string, StoredItem>();
  for (const [id, props] of all) {
    const name = props[NAME_PROP];
    const item = byId.get(id);
    if (name !== undefined && item) byName.set(name, item);
  }
  return (name) => {
    const id0 = itemIdOf(col.kind, name);
    const direct = byId.get(id0);
    const own = all.get(id0)?.[NAME_PROP];
    if (direct && (own === undefined || own === name)) return direct;
    return byName.get(name) ?? null;
  };
}

async function multiget(req: DavRequest, col: Collection, body: XmlElement, env: PropertyEnv): Promise<void> {
  const { wanted, expand } = reportProps(body);
  if (expand) env.itemData = (item) => expandCalendar(item.content ?? '', expand);
  const hrefs = children(body, NS.dav, 'href').map(textOf);
  if (hrefs.length > MAX_HREFS) fail('invalid_request', `at most ${MAX_HREFS} hrefs per multiget`);
  // Reading the whole collection pays off when the hrefs are a good share of it; else point reads.
  const lookup = hrefs.length > 20 && hrefs.length * 4 >= col.count ? await collectionIndex(req, col) : null;
  const resolved: Array<{ href: string; item: StoredItem | null }> = [];
  for (const href of hrefs) {
    let target;
    try {
      target = parseDavPath(href.trim());
    } catch (e) {
      if (!isKeepsakeError(e)) throw e;
      resolved.push({ href, item: null });
      continue;
    }
    // Only members of this collection, in the caller's own space; anything else is simply not found here.
    if (target.type !== 'item' || target.user !== req.user.name || target.collection !== col.id || target.parents.length > 0) {
      resolved.push({ href, item: null });
      continue;
    }
    resolved.push({ href, item: lookup ? lookup(target.name) : (await itemAt(req, col, target.name)).item });
  }
  const found = resolved.filter((r) => r.item !== null).map((r) => r.item!);
  const { responses } = await responsesWithNames(req, col, found, wanted, env);
  let next = 0;
  sendMultistatus(
    req,
    resolved.map((r) => (r.item ? responses[next++] : statusResponse(r.href, 404))),
  );
}

async function calendarQuery(req: DavRequest, col: Collection, body: XmlElement, env: PropertyEnv): Promise<void> {
  const { wanted, expand } = reportProps(body);
  const filterEl = child(child(body, NS.caldav, 'filter'), NS.caldav, 'comp-filter');
  if (!filterEl) fail('invalid_xml', 'calendar-query needs CALDAV:filter with one comp-filter (RFC 4791 §9.7)');
  const filter = compFilterOf(filterEl);
  if (expand) env.itemData = (item) => expandCalendar(item.content ?? '', expand);
  const items = (await req.dav.liveItems(req.user, col.id)).filter((i) => calendarMatches(i.content ?? '', filter));
  sendMultistatus(req, await responsesFor(req, col, items, wanted, env));
}

async function addressbookQuery(req: DavRequest, col: Collection, body: XmlElement, env: PropertyEnv): Promise<void> {
  const { wanted } = reportProps(body);
  const filterEl = child(body, NS.carddav, 'filter');
  const filter = {
    allOf: filterEl?.attrs.test === 'allof',
    props: children(filterEl, NS.carddav, 'prop-filter').map((p) => propFilterOf(p, NS.carddav)),
  };
  const limitText = textOf(child(child(body, NS.carddav, 'limit'), NS.carddav, 'nresults')).trim();
  const limit = limitText ? Number(limitText) : Infinity;
  let items = (await req.dav.liveItems(req.user, col.id)).filter((i) => addressbookMatches(i.content ?? '', filter));
  let truncated = false;
  if (items.length > limit) {
    items = items.slice(0, limit);
    truncated = true;
  }
  const responses = await responsesFor(req, col, items, wanted, env);
  // RFC 6352 §8.6.1: a truncated result says so with 507 on the collection.
  if (truncated) responses.push(statusResponse(req.request.url.split('?')[0], 507));
  sendMultistatus(req, responses);
}

async function syncCollection(req: DavRequest, col: Collection, body: XmlElement, env: PropertyEnv): Promise<void> {
  const level = textOf(child(body, NS.dav, 'sync-level')).trim();
  if (level !== '' && level !== '1' && level !== 'infinite') fail('invalid_xml', 'DAV:sync-level must be 1 or infinite');
  const token = textOf(child(body, NS.dav, 'sync-token'));
  const wanted = wantedProperties({ ...body, ns: NS.dav, name: 'propfind' });
  const limitEl = child(body, NS.dav, 'limit');
  let limit = Infinity;
  if (limitEl) {
    const n = textOf(child(limitEl, NS.dav, 'nresults')).trim();
    limit = /^[0-9]{1,9}$/.test(n) ? Number(n) : NaN;
    if (!(limit >= 1)) fail('invalid_xml', 'DAV:limit needs DAV:nresults with a positive integer (RFC 6578 §3.7)');
  }
  const changes = await req.dav.changesSince(req.user, col.id, token, limit);
  if (col.kind === 'photos') return photoSyncResponses(req, col, changes, wanted, env);
  const { responses, names } = await responsesWithNames(req, col, changes.changed, wanted, env);
  for (const id of changes.deleted) responses.push(statusResponse(names.href(id), 404));
  // RFC 6578 §3.6: a truncated result says so with 507 on the request-URI; the token resumes after it.
  if (changes.truncated) responses.push(davElement('response', hrefElement(req.request.url.split('?')[0]) + statusLine(507) + davElement('error', davElement('number-of-matches-within-limits'))));
  sendMultistatus(req, responses, davElement('sync-token', escapeXml(changes.token)));
}

/** sync-collection of a photo collection: members are named by their place in the folder tree. */
async function photoSyncResponses(req: DavRequest, col: Collection, changes: DavChanges, wanted: string[] | 'allprop' | 'propname', env: PropertyEnv): Promise<void> {
  const tree = await req.folders.tree(req.user, col);
  const responses: string[] = [];
  for (const item of changes.changed) {
    const entry = tree.byId.get(item.id);
    // Not in the tree any more: deleted since the changes were read; the next sync reports it.
    const found = entry ? photoResource(req.user.name, col, tree, entry.path) : null;
    if (found) responses.push(responseElement(describe(found.href, found.r, env, wanted, found.dead)));
  }
  for (const id of changes.deleted) {
    // A tombstone has no path: the href is where the item was when it was deleted.
    const before = await req.dav.contentBeforeDelete(req.user, col.id, id);
    const meta = before ? (JSON.parse(before) as PhotoContent) : null;
    const href = meta ? photoHref(req.user.name, col.id, pathOfMeta(meta), meta.type === FOLDER_TYPE) : photoHref(req.user.name, col.id, id, false);
    responses.push(statusResponse(href, 404));
  }
  if (changes.truncated) responses.push(davElement('response', hrefElement(req.request.url.split('?')[0]) + statusLine(507) + davElement('error', davElement('number-of-matches-within-limits'))));
  sendMultistatus(req, responses, davElement('sync-token', escapeXml(changes.token)));
}

export async function report(req: DavRequest): Promise<void> {
  const body = await xmlBody(req);
  if (!body) fail('invalid_xml', 'REPORT needs a body naming the report');
  const t = req.target;
  const key = clark(body.ns, body.name);
  if (t.type !== 'collection') fail('unsupported_report', `REPORT ${body.name} is supported on calendar, address book and photo collections only`);
  const col = await collectionOf(req);
  const env = await propertyEnv(req);
  const cal = col.kind === 'calendar' || col.kind === 'tasks';
  const card = col.kind === 'contacts';
  if (key === clark(NS.dav, 'sync-collection')) return syncCollection(req, col, body, env);
  if (cal && key === clark(NS.caldav, 'calendar-multiget')) return multiget(req, col, body, env);
  if (cal && key === clark(NS.caldav, 'calendar-query')) return calendarQuery(req, col, body, env);
  if (card && key === clark(NS.carddav, 'addressbook-multiget')) return multiget(req, col, body, env);
  if (card && key === clark(NS.carddav, 'addressbook-query')) return addressbookQuery(req, col, body, env);
  fail('unsupported_report', `the report ${key.slice(0, 120)} is not supported on this ${col.kind} collection`);
}

