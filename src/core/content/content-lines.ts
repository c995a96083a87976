// Logical lines of vCard/iCalendar text and the BEGIN/END structure ical.js does not check.
import { fail, type ErrorCode } from '../errors.js';

/** One unfolded content line and where it sits in the original text. */
export interface ContentLine {
  /** The line with folds removed and without its line break. */
  text: string;
  /** Offset of the line's first character in the original text. */
  start: number;
  /** Offset just past the line's last line break (or the end of the text). */
  end: number;
  /** 1-based number of the physical line the logical line starts on (for messages). */
  lineNumber: number;
}

/** A top-level BEGIN:X ... END:X block: its lower-case name and its span in the original text. */
export interface ComponentSpan {
  name: string;
  start: number;
  end: number;
}

/** Deepest component nesting accepted; real data nests 3 deep (VCALENDAR > VEVENT > VALARM). */
export const MAX_COMPONENT_DEPTH = 8;

/**
 * Splits text into logical lines. RFC 5545 §3.1 / RFC 6350 §3.2: "a long line can be split
 * ... by inserting a CRLF immediately followed by a single linear white-space character", so a
 * physical line that starts with a space or tab continues the previous one. Bare LF is accepted
 * as a line break, as ical.js does. Blank lines are skipped.
 */
const NOT_BLANK = /\S/;

export function contentLines(text: string): ContentLine[] {
  const lines: ContentLine[] = [];
  let pos = 0;
  let physical = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const next = nl === -1 ? text.length : nl + 1;
    let body = text.slice(pos, nl === -1 ? text.length : nl);
    if (body.endsWith('\r')) body = body.slice(0, -1);
    physical++;
    const last = lines[lines.length - 1];
    if ((body.startsWith(' ') || body.startsWith('\t')) && last !== undefined) {
      last.text += body.slice(1);
      last.end = next;
    } else if (NOT_BLANK.test(body)) {
      lines.push({ text: body, start: pos, end: next, lineNumber: physical });
    }
    pos = next;
  }
  return lines;
}

/** `BEGIN`/`END` and the component name when the line is one (ical.js only treats `NAME:` without parameters so). */
function beginOrEnd(line: string): { kind: 'begin' | 'end'; name: string } | null {
  // Most lines start with neither letter: skip the regular expression for them.
  const first = line.charCodeAt(0) | 0x20;
  if (first !== 0x62 /* b */ && first !== 0x65 /* e */) return null;
  const m = /^(begin|end):(.*)$/i.exec(line);
  if (!m) return null;
  return { kind: m[1].toLowerCase() as 'begin' | 'end', name: m[2].trim().toLowerCase() };
}

/**
 * Checks that every BEGIN:X is closed by END:X in order and that nothing sits outside a
 * component, and returns the top-level components' spans. ical.js pops its stack on any END
 * without comparing names, so `BEGIN:VCARD ... END:VCALENDAR` and a stray extra END parse
 * "successfully" there; RFC 5545 §3.4 / RFC 6350 §3.3 pair each BEGIN with an END of the same name.
 */
export function checkComponentStructure(lines: ContentLine[], code: ErrorCode, what: string): ComponentSpan[] {
  const open: Array<{ name: string; line: ContentLine }> = [];
  const spans: ComponentSpan[] = [];
  for (const line of lines) {
    const be = beginOrEnd(line.text);
    if (be?.kind === 'begin') {
      if (be.name === '') fail(code, `${what}: line ${line.lineNumber} is BEGIN without a component name`, { line: line.lineNumber });
      if (open.length >= MAX_COMPONENT_DEPTH) {
        fail(code, `${what}: components are nested more than ${MAX_COMPONENT_DEPTH} deep (line ${line.lineNumber})`, { line: line.lineNumber });
      }
      open.push({ name: be.name, line });
      continue;
    }
    if (be?.kind === 'end') {
      const top = open.pop();
      if (top === undefined) {
        fail(code, `${what}: line ${line.lineNumber} END:${be.name.toUpperCase()} has no matching BEGIN`, { line: line.lineNumber });
      }
      if (top.name !== be.name) {
        fail(
          code,
          `${what}: line ${line.lineNumber} END:${be.name.toUpperCase()} does not close BEGIN:${top.name.toUpperCase()} from line ${top.line.lineNumber}`,
          { line: line.lineNumber },
        );
      }
      if (open.length === 0) spans.push({ name: be.name, start: top.line.start, end: line.end });
      continue;
    }
    if (open.length === 0) {
      fail(code, `${what}: line ${line.lineNumber} is outside any BEGIN/END component`, { line: line.lineNumber });
    }
  }
  const unclosed = open.pop();
  if (unclosed !== undefined) {
    fail(code, `${what}: BEGIN:${unclosed.name.toUpperCase()} on line ${unclosed.line.lineNumber} is never closed (text truncated?)`, {
      line: unclosed.line.lineNumber,
    });
  }
  return spans;
}
