// Fuzzing canonicalizeContent: any input either validates or fails with a KeepsakeError, quickly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KINDS, type Kind } from '../../protocol/sync-protocol.js';
import { KeepsakeError } from '../errors.js';
import { allDayEvent, LIMITS, recurringEvent, taskWithoutStart, vcard3, vcard4 } from './content-fixtures.js';
import { canonicalizeContent as sut } from './validate-content.js';

/** Runs per property; raise with FUZZ_RUNS=20000 for a long local run. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const TIMEOUT = Math.max(60_000, RUNS * 200);

/** Runs the unit under test and fails the property on anything but success or a KeepsakeError. */
function returnsOrRefuses(kind: Kind, id: string, content: unknown): void {
  let result;
  try {
    result = sut(kind, id, content, LIMITS);
  } catch (e) {
    if (e instanceof KeepsakeError) return;
    assert.fail(`${kind}: ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`);
  }
  if (typeof content === 'string') assert.equal(result.text, content, 'text kinds are stored unchanged');
}

/** Lines that stress the parser: structure, odd parameters, bad values, folds. */
const trickyLine = fc.oneof(
  fc.constantFrom(
    'BEGIN:VCARD', 'END:VCARD', 'BEGIN:VEVENT', 'END:VEVENT', 'BEGIN:VTODO', 'END:VTODO', 'BEGIN:VCALENDAR', 'END:VCALENDAR',
    'BEGIN:', 'END:', 'BEGIN;X=1:VEVENT', 'UID:other', 'UID:', 'VERSION:4.0', 'VERSION:9', 'FN', 'FN;=x:y', 'FN;A="x:y', ':',
    'DTSTART:garbage', 'DTSTART:20240101', 'DTSTART;VALUE=DATE:2024', 'DTSTART;TZID=Nowhere:20240101T100000',
    'RRULE:FREQ=DAILY;COUNT=x', 'RRULE:FREQ=DAILY;UNTIL=zzz', 'RRULE:', 'RRULE:FREQ=SECONDLY;BYSECOND=99', 'DURATION:P',
    'RECURRENCE-ID:20240105T090000Z', 'RECURRENCE-ID;RANGE=THISANDFUTURE:x', 'EXDATE:,,', 'RDATE;VALUE=PERIOD:x/y',
    'TRIGGER;VALUE=DATE-TIME:nope', 'GEO:a;b', 'X-FOO;VALUE=DATE-TIME:1', ' continued', '\tcontinued', 'METHOD:PUBLISH',
    'item1.TEL;VALUE=uri:tel:1', 'BDAY:--0415', 'N:;;;;;;;;', 'ATTENDEE;CN="a;b":mailto:x', 'ORG:\\',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

type Mutation =
  | { op: 'truncate'; at: number }
  | { op: 'insertLine'; at: number; line: string }
  | { op: 'changeChar'; at: number; char: string }
  | { op: 'deleteLine'; at: number }
  | { op: 'duplicateLine'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insertLine' as const), at: fc.nat(), line: trickyLine }),
  fc.record({ op: fc.constant('changeChar' as const), at: fc.nat(), char: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }),
  fc.record({ op: fc.constant('deleteLine' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicateLine' as const), at: fc.nat() }),
);

function mutate(text: string, m: Mutation): string {
  const lines = text.split('\r\n');
  const line = m.at % Math.max(lines.length, 1);
  switch (m.op) {
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    case 'insertLine':
      lines.splice(line, 0, m.line);
      return lines.join('\r\n');
    case 'changeChar': {
      const at = m.at % Math.max(text.length, 1);
      return text.slice(0, at) + m.char + text.slice(at + 1);
    }
    case 'deleteLine':
      lines.splice(line, 1);
      return lines.join('\r\n');
    case 'duplicateLine':
      lines.splice(line, 0, lines[line] ?? '');
      return lines.join('\r\n');
  }
}

const SEEDS: Array<{ kind: Kind; id: string; text: string }> = [
  { kind: 'contacts', id: 'A1B2C3D4-0000-4000-8000-000000000001', text: vcard3() },
  { kind: 'contacts', id: 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1', text: vcard4() },
  { kind: 'calendar', id: 'standup-1', text: recurringEvent() },
  { kind: 'calendar', id: 'holiday-1', text: allDayEvent() },
  { kind: 'tasks', id: 'task-1', text: taskWithoutStart() },
];

describe('canonicalizeContent fuzz', () => {
  it('random strings: returns or throws a KeepsakeError, for every kind', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), (kind, text) => {
        returnsOrRefuses(kind, 'x', text);
      }),
      { numRuns: RUNS },
    );
  });

  it('random lines of calendar syntax: returns or throws a KeepsakeError', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(fc.constantFrom<Kind>('contacts', 'calendar', 'tasks'), fc.array(trickyLine, { maxLength: 30 }), (kind, lines) => {
        returnsOrRefuses(kind, 'other', lines.join('\r\n'));
      }),
      { numRuns: RUNS },
    );
  });

  for (const seed of SEEDS) {
    it(`mutations of a valid ${seed.kind} item (${seed.id}): returns or throws a KeepsakeError`, { timeout: TIMEOUT }, () => {
      returnsOrRefuses(seed.kind, seed.id, seed.text);
      assert.doesNotThrow(() => sut(seed.kind, seed.id, seed.text, LIMITS), 'the unmutated seed is valid');
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
          returnsOrRefuses(seed.kind, seed.id, mutations.reduce(mutate, seed.text));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('arbitrary JSON-like values: returns or throws a KeepsakeError, for every kind', { timeout: TIMEOUT }, () => {
    const photoLike = fc.record(
      { blob: fc.oneof(fc.string(), fc.constant('sha256:' + 'a'.repeat(64))), name: fc.string(), type: fc.constantFrom('image/png', 'image/gif', 'x'), size: fc.oneof(fc.integer(), fc.double()), takenAt: fc.string() },
      { requiredKeys: [] },
    );
    const scoreLike = fc.record(
      { game: fc.string(), score: fc.double(), achievedAt: fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())), player: fc.anything() },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.oneof(fc.anything(), photoLike, scoreLike, fc.record({ title: fc.string(), body: fc.string() })), (kind, content) => {
        returnsOrRefuses(kind, 'x', content);
      }),
      { numRuns: RUNS * 3 },
    );
  });
});
