// Child process for the two-process test: opens the store as a second `keepsake serve` would and hammers one user.
// Usage: node hammer.fixture.js <url> <schema> <userId> <label> <calls>; prints one JSON line with every sequence number it got.
import { randomUUID } from 'node:crypto';
import { contentHash } from '../../core/hash.js';
import type { ChangeOutcome, PreparedChange } from '../../core/model.js';
import { openPostgresStore } from './record-store.js';

const [url, schema, userId, label, callsArg] = process.argv.slice(2);
const calls = Number(callsArg);
const NOW = new Date().toISOString();
const IN_FLIGHT = 25;

function note(id: string, body: string, baseVersion: number | null): PreparedChange {
  const content = JSON.stringify({ body, title: id });
  return { changeId: randomUUID(), collection: 'notes', id, baseVersion, deleted: false, content, hash: contentHash(content) };
}

const store = await openPostgresStore(url, { schema });
const seqs: number[] = [];
const own = new Map<string, number>();
const take = (outcomes: ChangeOutcome[]) => {
  for (const o of outcomes) {
    if (o.status === 'applied') seqs.push(o.item.version);
    if (o.status === 'conflict') seqs.push(o.revision);
  }
};

// Every change carries unique bytes, so no outcome is a no-op answering with an existing version.
async function one(i: number): Promise<void> {
  switch (i % 4) {
    case 0: {
      const [r] = await store.applyChanges(userId, [note(`${label}-${i}`, `new ${i}`, null)], NOW);
      take([r]);
      if (r.status === 'applied') own.set(`${label}-${i}`, r.item.version);
      return;
    }
    case 1: {
      // Read-modify-write of items both processes edit: some win, the rest conflict and are kept.
      const id = `hot${i % 3}`;
      const current = await store.getItem(userId, 'notes', id);
      take(await store.applyChanges(userId, [note(id, `${label} edit ${i}`, current?.version ?? null)], NOW));
      return;
    }
    case 2: {
      const victim = [...own.entries()][0];
      if (!victim) return;
      own.delete(victim[0]);
      const del: PreparedChange = { changeId: randomUUID(), collection: 'notes', id: victim[0], baseVersion: victim[1], deleted: true, content: null, hash: null };
      take(await store.applyChanges(userId, [del], NOW));
      return;
    }
    default:
      take(await store.applyChanges(userId, [0, 1, 2].map((k) => note(`${label}-${i}-${k}`, `batch ${i}`, null)), NOW));
  }
}

let next = 0;
await Promise.all(
  Array.from({ length: IN_FLIGHT }, async () => {
    while (next < calls) await one(next++);
  }),
);
const stats = store.durabilityStats();
await store.close();
process.stdout.write(JSON.stringify({ seqs, commits: stats.commits, calls: stats.calls }) + '\n');
