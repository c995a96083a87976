// Test fixture: writes to a SQLite store without pause and prints every acknowledged version, until killed.
import { writeSync } from 'node:fs';
import { contentHash } from '../../core/hash.js';
import type { PreparedChange } from '../../core/model.js';
import { openSqliteStore } from './record-store.js';

// Usage: node crash-writer.fixture.js <db file> <user id>
// Output, one line per acknowledged change: "<id> <version>". writeSync so a line that was
// printed has really left the process before the next write is issued.
const [file, userId] = process.argv.slice(2);
const WORKERS = 16;

function note(id: string, body: string, baseVersion: number): PreparedChange {
  const content = JSON.stringify({ body, title: id });
  return { changeId: `${id}@${body}`, collection: 'notes', id, baseVersion, deleted: false, content, hash: contentHash(content) };
}

async function worker(store: Awaited<ReturnType<typeof openSqliteStore>>, w: number): Promise<never> {
  const mine: { id: string; version: number }[] = [];
  for (let n = 0; ; n++) {
    let change: PreparedChange;
    const last = mine[mine.length - 1];
    if (last && n % 5 === 3) change = note(last.id, `edit ${n}`, last.version);
    else if (last && n % 7 === 6) change = { changeId: `${last.id}@del${n}`, collection: 'notes', id: last.id, baseVersion: last.version, deleted: true, content: null, hash: null };
    else change = note(`w${w}-${n}`, `body ${n}`, 0);
    const [outcome] = await store.applyChanges(userId, [change], new Date().toISOString());
    if (outcome.status !== 'applied') throw new Error(`unexpected outcome ${outcome.status}`);
    writeSync(1, `${outcome.item.id} ${outcome.item.version}\n`);
    if (change.deleted) mine.pop();
    else if (last && change.id === last.id) last.version = outcome.item.version;
    else mine.push({ id: change.id, version: outcome.item.version });
  }
}

const store = await openSqliteStore(file);
writeSync(1, 'ready\n');
await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(store, w)));
