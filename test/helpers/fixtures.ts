// Realistic sample content for every kind, used across tests and benchmarks.
import { createHash } from 'node:crypto';

export function vcard(uid: string, name = 'Ada Lovelace', version: '3.0' | '4.0' = '4.0'): string {
  return [
    'BEGIN:VCARD',
    `VERSION:${version}`,
    `UID:${uid}`,
    `FN:${name}`,
    `N:${name.split(' ').reverse().join(';')};;;`,
    'EMAIL;TYPE=home:ada@example.org',
    'TEL;TYPE=cell:+44 20 7946 0000',
    'END:VCARD',
    '',
  ].join('\r\n');
}

export function vevent(uid: string, summary = 'Team meeting', options: { recurring?: boolean } = {}): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Keepsake//tests//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260101T000000Z',
    'DTSTART:20260105T090000Z',
    'DTEND:20260105T100000Z',
    `SUMMARY:${summary}`,
  ];
  if (options.recurring) lines.push('RRULE:FREQ=WEEKLY;COUNT=10');
  lines.push('END:VEVENT');
  if (options.recurring) {
    lines.push(
      'BEGIN:VEVENT',
      `UID:${uid}`,
      'DTSTAMP:20260101T000000Z',
      'RECURRENCE-ID:20260112T090000Z',
      'DTSTART:20260112T110000Z',
      'DTEND:20260112T120000Z',
      `SUMMARY:${summary} (moved)`,
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR', '');
  return lines.join('\r\n');
}

export function vtodo(uid: string, summary = 'Buy milk'): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Keepsake//tests//EN', 'BEGIN:VTODO', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', `SUMMARY:${summary}`, 'STATUS:NEEDS-ACTION', 'END:VTODO', 'END:VCALENDAR', ''].join('\r\n');
}

/** A small but real PNG (1x1) padded with a unique text chunk, so each call gives new bytes. */
export function png(seed = 'x', padBytes = 0): Buffer {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  const idat = Buffer.from([0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d]);
  const text = Buffer.concat([Buffer.from(`Comment\0${seed}`), Buffer.alloc(padBytes, 0x20)]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('tEXt', text), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

export function sha256(bytes: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}
