// The one place ical.js parses vCard/iCalendar text: its gaps are checked here, its exceptions become KeepsakeErrors.
import ICAL from 'ical.js';
import { fail, KeepsakeError, type ErrorCode } from '../errors.js';
import { checkComponentStructure, contentLines, type ComponentSpan } from './content-lines.js';
import type { JcalComponent } from './jcal.js';
import { checkNoControlCharacters, checkWellFormedUnicode } from './text-checks.js';

/** A component parsed by ical.js. */
export type IcalComponent = InstanceType<typeof ICAL.Component>;

/** What `parseIcalText` returns: the top-level components and their spans in the original text. */
export interface ParsedIcalText {
  components: IcalComponent[];
  /** `spans[i]` is where `components[i]` sits in the text (same order). */
  spans: ComponentSpan[];
}

/**
 * Parses vCard or iCalendar text into its top-level components with `ICAL.parse`.
 *
 * Before handing the text to ical.js it checks what ical.js lets through: unbalanced or
 * mismatched BEGIN/END (ical.js closes a component on any END), lines outside a component
 * (ical.js crashes with a TypeError on those), control characters and lone surrogates. Every
 * failure, including any exception ical.js throws, becomes a KeepsakeError with `code`.
 * An empty or blank text yields no components.
 */
export function parseIcalText(text: string, code: ErrorCode, what: string): ParsedIcalText {
  const { components, spans } = parseJcal(text, code, what);
  try {
    return { components: components.map((c) => new ICAL.Component(c as unknown as unknown[])), spans };
  } catch (e) {
    if (e instanceof KeepsakeError) throw e;
    fail(code, `${what} could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** What `parseJcal` returns: the top-level components as jCal arrays, and their spans in the text. */
export interface ParsedJcal {
  components: JcalComponent[];
  spans: ComponentSpan[];
}

/** `parseIcalText` without the ical.js wrappers: the same checks, the components as jCal arrays. */
export function parseJcal(text: string, code: ErrorCode, what: string): ParsedJcal {
  checkWellFormedUnicode(text, code, what);
  checkNoControlCharacters(text, code, what);
  const spans = checkComponentStructure(contentLines(text), code, what);
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text);
  } catch (e) {
    fail(code, `${what} could not be parsed: ${e instanceof Error ? e.message : String(e)}`);
  }
  // ICAL.parse returns [] for no component, the component itself for one, an array of them for several.
  const list = (Array.isArray(jcal) && typeof jcal[0] === 'string' ? [jcal] : jcal) as JcalComponent[];
  if (list.length !== spans.length) {
    // Cannot happen once the structure check passed; refuse rather than guess.
    fail(code, `${what}: found ${spans.length} top-level components but ical.js parsed ${list.length}`);
  }
  return { components: list, spans };
}

/**
 * The first value of property `name` as text, or null when the property is absent. Values that
 * ical.js turned into objects (times, durations) are rendered with their ICAL string form.
 */
export function firstValueText(component: IcalComponent, name: string): string | null {
  const prop = component.getFirstProperty(name);
  if (prop === null) return null;
  const raw = (prop.toJSON() as unknown[]).slice(3);
  const value = raw[0];
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
