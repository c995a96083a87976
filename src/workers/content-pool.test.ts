// The worker pool gives exactly the inline checker's results, and survives its workers dying.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LIMITS, recurringEvent, taskWithoutStart, vcard3, vcard4 } from '../core/content/content-fixtures.js';
import { type CheckedContent, checkContentInline, type ContentToCheck } from '../core/ports/content-checker.js';
import { ContentWorkerPool } from './content-pool.js';

/** A batch mixing every kind with good and bad content (`rounds` × 10 items). */
function mixedBatch(rounds = 40): ContentToCheck[] {
  const items: ContentToCheck[] = [];
  for (let i = 0; i < rounds; i++) {
    items.push({ kind: 'contacts', id: 'A1B2C3D4-0000-4000-8000-000000000001', content: vcard3() });
    items.push({ kind: 'contacts', id: 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1', content: vcard4() });
    items.push({ kind: 'contacts', id: 'wrong-uid', content: vcard3() }); // uid_mismatch
    items.push({ kind: 'contacts', id: 'x', content: 'BEGIN:VCARD\r\nFN:broken\r\n' }); // invalid_vcard
    items.push({ kind: 'calendar', id: 'x', content: 42 }); // not a string
    items.push({ kind: 'calendar', id: uidOf(recurringEvent()), content: recurringEvent() });
    items.push({ kind: 'tasks', id: 'task-1', content: taskWithoutStart() });
    items.push({ kind: 'notes', id: `n${i}`, content: { title: 'T', body: `# ${i}` } });
    items.push({ kind: 'notes', id: 'bad', content: { title: 'T', body: 'b', extra: true } }); // unknown field
    items.push({ kind: 'scores', id: `s${i}`, content: { game: 'g', score: i, achievedAt: '2026-01-01T00:00:00Z' } });
  }
  return items;
}

function uidOf(ical: string): string {
  return /UID:(.*)\r\n/.exec(ical)![1];
}

/** Results as a user sees them: values, or error code, message and details. */
const visible = (rs: CheckedContent[]) =>
  rs.map((r) => (r.ok ? r.value : { code: r.error.code, message: r.error.message, details: r.error.details }));

describe('ContentWorkerPool', () => {
  const pool = new ContentWorkerPool({ threads: 2, minBatch: 1 });
  after(() => pool.close());

  it('answers a mixed batch exactly as the inline checker does, in order', async () => {
    const items = mixedBatch();
    const expected = visible(checkContentInline(items, LIMITS));
    assert.ok(expected.some((r) => 'code' in r) && expected.some((r) => 'hash' in r), 'the batch has good and bad items');
    assert.deepEqual(visible(await pool.checkAll(items, LIMITS)), expected);
    assert.deepEqual(visible(await pool.checkAll(items, LIMITS)), expected, 'and again, on warm workers');
    assert.ok(pool.counts.byWorkers >= (items.length * 2 * 2) / 3 - 2, `workers checked their shares (${pool.counts.byWorkers})`);
    assert.equal(pool.counts.fallenBack, 0);
  });

  it('still answers every item when its workers die mid-batch, and starts new ones after', async () => {
    // The calling thread checks the last third itself before checkAll returns, so that third is
    // made of cheap score items and the workers' two thirds of vCards and iCalendar: the workers
    // are still busy with their shares when they are terminated (with an even mix the workers
    // sometimes answered first, and the test failed about once in a few dozen runs).
    const heavy = mixedBatch(600);
    const light = Array.from({ length: heavy.length / 2 }, (_, i): ContentToCheck => ({ kind: 'scores', id: `light${i}`, content: { game: 'g', score: i, achievedAt: '2026-01-01T00:00:00Z' } }));
    const items = [...heavy, ...light];
    const expected = visible(checkContentInline(items, LIMITS));
    const pending = pool.checkAll(items, LIMITS);
    await pool.close(); // terminates the workers while they hold their shares
    assert.deepEqual(visible(await pending), expected);
    assert.ok(pool.counts.fallenBack > 0, 'the dead workers\' shares were checked here');
    const before = pool.counts.byWorkers;
    assert.deepEqual(visible(await pool.checkAll(items, LIMITS)), expected);
    assert.ok(pool.counts.byWorkers > before, 'new workers took the next batch');
  });
});
