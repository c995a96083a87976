// Realistic content for every kind: vCards with several fields (some with a photo), recurring
// events with an exception, tasks, Markdown notes, photos, game scores.
import type { Kind, NoteContent, ScoreContent } from '../protocol/sync-protocol.js';
import type { Random } from './random.js';

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tim', 'Hedy', 'Linus'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Lee', 'Lamarr', 'Torvalds'];
const TOPICS = ['Standup', 'Dentist', 'Piano lesson', 'Team lunch', 'Yoga', 'Book club', 'Code review', 'Parents evening'];
const TASK_TITLES = ['Buy milk', 'Renew passport', 'Call the plumber', 'File taxes', 'Water plants', 'Book flights'];
const GAMES = ['Snake', 'Tetris', '2048', 'Minesweeper', 'Solitaire'];

/** A tiny valid PNG (1×1) in base64, for contact photos inside vCards. */
const AVATAR =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function stamp(random: Random, yearFrom = 2026): string {
  const d = new Date(Date.UTC(yearFrom, random.int(0, 11), random.int(1, 28), random.int(7, 20), random.pick([0, 15, 30, 45])));
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function contactCard(random: Random, uid: string, revision: number): string {
  const first = random.pick(FIRST);
  const last = random.pick(LAST);
  const lines = [
    'BEGIN:VCARD',
    'VERSION:4.0',
    `UID:${uid}`,
    `FN:${first} ${last}`,
    `N:${last};${first};;;`,
    `EMAIL;TYPE=home:${first.toLowerCase()}.${last.toLowerCase()}@example.org`,
    `EMAIL;TYPE=work:${first[0].toLowerCase()}${last.toLowerCase()}@work.example`,
    `TEL;TYPE=cell:+44 7700 ${String(random.int(0, 999999)).padStart(6, '0')}`,
    `ADR;TYPE=home:;;${random.int(1, 200)} High Street;Cambridge;;CB${random.int(1, 9)} ${random.int(1, 9)}AB;United Kingdom`,
    `ORG:${random.pick(LAST)} & Co`,
    `BDAY:${random.int(1950, 2005)}${String(random.int(1, 12)).padStart(2, '0')}${String(random.int(1, 28)).padStart(2, '0')}`,
    `NOTE:revision ${revision}`,
  ];
  if (random.chance(0.3)) lines.push(`PHOTO:data:image/png;base64,${AVATAR}`);
  lines.push('END:VCARD', '');
  return lines.join('\r\n');
}

export function recurringEvent(random: Random, uid: string, revision: number): string {
  const start = stamp(random);
  const topic = random.pick(TOPICS);
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Keepsake//simulator//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260101T000000Z',
    `DTSTART:${start}`,
    `DURATION:PT${random.pick([30, 45, 60, 90])}M`,
    `RRULE:FREQ=${random.pick(['DAILY', 'WEEKLY', 'MONTHLY'])};COUNT=${random.int(3, 30)}`,
    `SUMMARY:${topic}`,
    `LOCATION:Room ${random.int(1, 40)}`,
    `DESCRIPTION:revision ${revision}`,
    'END:VEVENT',
  ];
  if (random.chance(0.5)) {
    lines.push('BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', `RECURRENCE-ID:${start}`, `DTSTART:${start.replace(/T\d\d/, 'T21')}`, 'DURATION:PT30M', `SUMMARY:${topic} (moved)`, 'END:VEVENT');
  }
  lines.push('END:VCALENDAR', '');
  return lines.join('\r\n');
}

export function task(random: Random, uid: string, revision: number): string {
  const done = random.chance(0.3);
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Keepsake//simulator//EN',
    'BEGIN:VTODO',
    `UID:${uid}`,
    'DTSTAMP:20260101T000000Z',
    `SUMMARY:${random.pick(TASK_TITLES)}`,
    `DUE:${stamp(random)}`,
    `PRIORITY:${random.int(1, 9)}`,
    `STATUS:${done ? 'COMPLETED' : 'NEEDS-ACTION'}`,
    `DESCRIPTION:revision ${revision}`,
    'END:VTODO',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

export function note(random: Random, revision: number): NoteContent {
  const items = Array.from({ length: random.int(2, 6) }, (_v, i) => `- ${random.pick(TASK_TITLES)} (${i + 1})`);
  return { title: `${random.pick(TOPICS)} notes`, body: `# ${random.pick(TOPICS)}\n\n${items.join('\n')}\n\nRevision ${revision}.\n` };
}

export function score(random: Random): ScoreContent {
  return { game: random.pick(GAMES), score: random.int(10, 1_000_000), achievedAt: new Date(Date.UTC(2026, random.int(0, 10), random.int(1, 28))).toISOString(), player: random.pick(FIRST) };
}

/** Text or object content for a non-photo kind. */
export function contentFor(kind: Exclude<Kind, 'photos'>, random: Random, id: string, revision: number) {
  switch (kind) {
    case 'contacts':
      return contactCard(random, id, revision);
    case 'calendar':
      return recurringEvent(random, id, revision);
    case 'tasks':
      return task(random, id, revision);
    case 'notes':
      return note(random, revision);
    case 'scores':
      return score(random);
  }
}
