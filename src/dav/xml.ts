// The DAV XML layer: parses request bodies with @xmldom/xmldom into a small namespace-aware tree and writes responses.
import { DOMParser, type Element } from '@xmldom/xmldom';
import { fail } from '../core/errors.js';

export const NS = {
  dav: 'DAV:',
  caldav: 'urn:ietf:params:xml:ns:caldav',
  carddav: 'urn:ietf:params:xml:ns:carddav',
  cs: 'http://calendarserver.org/ns/',
  apple: 'http://apple.com/ns/ical/',
  keepsake: 'urn:keepsake:dav',
} as const;

/** Fixed prefixes used in every response, so property names stay short and predictable. */
const PREFIX: Record<string, string> = {
  [NS.dav]: 'D',
  [NS.caldav]: 'C',
  [NS.carddav]: 'CR',
  [NS.cs]: 'CS',
  [NS.apple]: 'A',
  [NS.keepsake]: 'K',
};

export const NAMESPACE_DECLARATIONS = Object.entries(PREFIX)
  .map(([uri, p]) => `xmlns:${p}="${uri}"`)
  .join(' ');

/** One element of a parsed body: namespace URI, local name, element children, own text, attributes. */
export interface XmlElement {
  ns: string;
  name: string;
  children: XmlElement[];
  text: string;
  attrs: Record<string, string>;
  /** The element's content re-serialised, namespaces written out (a dead property's stored value). */
  inner: string;
}

/** `{ns}name`: the key for a property or element. */
export function clark(ns: string, name: string): string {
  return `{${ns}}${name}`;
}

export function splitClark(key: string): { ns: string; name: string } {
  const i = key.indexOf('}');
  return { ns: key.slice(1, i), name: key.slice(i + 1) };
}

/** Most elements a request body may hold; a bigger body is refused before any work is done. */
const MAX_ELEMENTS = 20_000;
/** Deepest nesting accepted (real DAV bodies are under ten levels deep). */
const MAX_DEPTH = 64;

/**
 * Parses an XML request body. A DOCTYPE is refused outright (no entity expansion, no external
 * entities); any well-formedness error fails with `invalid_xml` and nothing is changed.
 */
export function parseXml(text: string): XmlElement {
  if (/<!DOCTYPE/i.test(text)) fail('invalid_xml', 'XML bodies with a DOCTYPE are not accepted');
  let doc: ReturnType<DOMParser['parseFromString']>;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(text, 'text/xml');
  } catch (e) {
    fail('invalid_xml', `the request body is not well-formed XML: ${(e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200)}`);
  }
  const root = doc.documentElement;
  if (!root) fail('invalid_xml', 'the request body has no root element');
  let count = 0;
  const convert = (el: Element, depth = 0): XmlElement => {
    if (++count > MAX_ELEMENTS) fail('invalid_xml', `the request body has more than ${MAX_ELEMENTS} elements`);
    if (depth > MAX_DEPTH) fail('invalid_xml', `the request body nests elements more than ${MAX_DEPTH} deep`);
    const children: XmlElement[] = [];
    let own = '';
    for (let n = el.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 1) children.push(convert(n as Element, depth + 1));
      else if (n.nodeType === 3 || n.nodeType === 4) own += n.nodeValue ?? '';
    }
    const attrs: Record<string, string> = {};
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i)!;
      if (a.name !== 'xmlns' && !a.name.startsWith('xmlns:')) attrs[a.localName ?? a.name] = a.value;
    }
    return { ns: el.namespaceURI ?? '', name: el.localName ?? el.nodeName, children, text: own, attrs, inner: serialiseInner(el) };
  };
  return convert(root);
}

function serialiseInner(el: Element): string {
  let inner = '';
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1) inner += serialiseElement(n as Element);
    else if (n.nodeType === 3 || n.nodeType === 4) inner += escapeXml(n.nodeValue ?? '');
  }
  return inner;
}

function serialiseElement(el: Element): string {
  // Namespaces are written out on each element so the stored text stands alone.
  const name = el.localName ?? el.nodeName;
  const ns = el.namespaceURI ?? '';
  return `<${name} xmlns="${escapeXml(ns)}">${serialiseInner(el)}</${name}>`;
}

/** The first child with this namespace and name. */
export function child(el: XmlElement | undefined, ns: string, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.ns === ns && c.name === name);
}

export function children(el: XmlElement | undefined, ns: string, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.ns === ns && c.name === name) : [];
}

/** All text below an element. */
export function textOf(el: XmlElement | undefined): string {
  if (!el) return '';
  return el.text + el.children.map(textOf).join('');
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** An empty element `<P:name/>` (or with inner XML), declaring an unknown namespace inline. */
export function element(ns: string, name: string, inner = ''): string {
  const p = PREFIX[ns];
  if (p) return inner === '' ? `<${p}:${name}/>` : `<${p}:${name}>${inner}</${p}:${name}>`;
  const decl = ns === '' ? 'xmlns=""' : `xmlns:x="${escapeXml(ns)}"`;
  const q = ns === '' ? name : `x:${name}`;
  return inner === '' ? `<${q} ${decl}/>` : `<${q} ${decl}>${inner}</${q}>`;
}

export function davElement(name: string, inner = ''): string {
  return element(NS.dav, name, inner);
}

export function hrefElement(href: string): string {
  return davElement('href', escapeXml(href));
}

/** A whole document whose root carries every fixed namespace declaration. */
export function document(rootNs: string, rootName: string, inner: string): string {
  const p = PREFIX[rootNs] ?? 'D';
  return `<?xml version="1.0" encoding="utf-8"?>\n<${p}:${rootName} ${NAMESPACE_DECLARATIONS}>${inner}</${p}:${rootName}>\n`;
}

/** One `<D:propstat>` per status: found properties with their values, missing ones empty. */
export interface PropResult {
  href: string;
  /** Property key (clark) → inner XML. */
  found: Map<string, string>;
  /** Property keys by status code (404, 403, 424, …). */
  failed: Map<number, string[]>;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  424: 'Failed Dependency',
  507: 'Insufficient Storage',
};

const STATUS_LINES = new Map<number, string>();

export function statusLine(code: number): string {
  let line = STATUS_LINES.get(code);
  if (line === undefined) STATUS_LINES.set(code, (line = davElement('status', `HTTP/1.1 ${code} ${REASONS[code] ?? ''}`.trim())));
  return line;
}

export function propElement(key: string, value: string): string {
  const { ns, name } = splitClark(key);
  return element(ns, name, value);
}

/** A `<D:response>` for one resource. */
export function responseElement(r: PropResult): string {
  let stats = '';
  if (r.found.size > 0) {
    const props = [...r.found].map(([k, v]) => propElement(k, v)).join('');
    stats += davElement('propstat', davElement('prop', props) + statusLine(200));
  }
  for (const [code, keys] of r.failed) {
    if (keys.length === 0) continue;
    stats += davElement('propstat', davElement('prop', keys.map((k) => propElement(k, '')).join('')) + statusLine(code));
  }
  if (stats === '') stats = davElement('propstat', davElement('prop', '') + statusLine(200));
  return davElement('response', hrefElement(r.href) + stats);
}

/** A `<D:response>` carrying only a status (a deleted member in sync-collection, a missing href in multiget). */
export function statusResponse(href: string, code: number): string {
  return davElement('response', hrefElement(href) + statusLine(code));
}
