// Property test: replaying random histories, the plan restores exactly the state at the chosen time.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { contentHash } from '../hash.js';
import type { PreparedChange, StoredItem } from '../model.js';
import { MemoryRecordStore } from '../../store/memory/record-store.js';
import { planPointInTime, stateAt } from './point-in-time.js';

const op = fc.record({
  id: fc.constantFrom('a', 'b', 'c', 'd'),
  del: fc.boolean(),
  body: fc.string({ maxLength: 6 }),
});

describe('point-in-time plan', () => {
  it('brings every item back to what it was at the chosen time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), fc.nat(), async (ops, cut) => {
        const store = new MemoryRecordStore();
        const user = await store.createUser(
          { id: randomUUID(), name: 'u', passwordHash: 'x', admin: false, createdAt: 't', deletedAt: null },
          [{ id: 'notes', kind: 'notes', name: 'Notes' }],
        );
        const time = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
        const truth: Array<Map<string, string | null>> = [];
        const live = new Map<string, string | null>();
        for (const [i, o] of ops.entries()) {
          const cur = await store.getItem(user.id, 'notes', o.id);
          const content = JSON.stringify({ body: o.body, title: o.id });
          const change: PreparedChange = o.del
            ? { changeId: randomUUID(), collection: 'notes', id: o.id, baseVersion: cur?.version ?? 0, deleted: true, content: null, hash: null }
            : { changeId: randomUUID(), collection: 'notes', id: o.id, baseVersion: cur?.version ?? 0, deleted: false, content, hash: contentHash(content) };
          const [r] = await store.applyChanges(user.id, [change], time(i));
          if (r.status === 'applied') live.set(o.id, r.item.deleted ? null : r.item.content);
          truth.push(new Map(live));
        }
        const k = cut % ops.length;
        const at = time(k);
        const items = await store.listItems(user.id, 'notes', { limit: 100, includeDeleted: true });
        const histories = await Promise.all(items.map(async (current) => ({ current, revisions: await store.listRevisions(user.id, 'notes', current.id) })));
        for (const h of histories) assert.equal(stateAt(h, at)?.deleted ? null : (stateAt(h, at)?.content ?? null), truth[k].get(h.current.id) ?? null);
        const plan = planPointInTime(histories, at);
        const changes: PreparedChange[] = plan.map((a) =>
          a.action === 'write'
            ? { changeId: randomUUID(), collection: 'notes', id: a.id, baseVersion: a.baseVersion, deleted: false, content: a.content, hash: a.hash }
            : { changeId: randomUUID(), collection: 'notes', id: a.id, baseVersion: a.baseVersion, deleted: true, content: null, hash: null },
        );
        const results = await store.applyChanges(user.id, changes, time(1000));
        assert.ok(results.every((r) => r.status === 'applied'));
        const after = new Map((await store.listItems(user.id, 'notes', { limit: 100 })).map((i: StoredItem) => [i.id, i.content]));
        const expected = new Map([...truth[k]].filter(([, v]) => v !== null));
        assert.deepEqual(after, expected);
      }),
      { numRuns: 200 },
    );
  });
});
