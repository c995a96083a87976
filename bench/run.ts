// `npm run bench`: runs the benchmarks, prints one summary table, writes bench-results.json.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { benchStore, type StoreFigures } from './foundation.bench.js';

const quick = process.argv.includes('--quick');
const options = quick ? { seconds: 4, batchedTotal: 10_000, pullItems: 10_000 } : { seconds: 10, batchedTotal: 40_000, pullItems: 10_000 };
const pg = process.env.KEEPSAKE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

const results: StoreFigures[] = [];
results.push(await benchStore('sqlite', [], options));
if (!process.argv.includes('--sqlite-only')) {
  const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  results.push(await benchStore('postgres', ['--store', `${pg}?schema=${schema}`], options));
  const { default: pgClient } = await import('pg');
  const c = new pgClient.Client(pg);
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
}

const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const rows: Array<[string, (r: StoreFigures) => string]> = [
  ['single push, 1 device: items/s', (r) => f(r.single1.perSecond)],
  ['single push, 1 device: p50 / p99 ms', (r) => `${f(r.single1.p50ms, 1)} / ${f(r.single1.p99ms, 1)}`],
  ['single push, 50 devices: items/s', (r) => f(r.single50.perSecond)],
  ['single push, 50 devices: p50 / p99 ms', (r) => `${f(r.single50.p50ms, 1)} / ${f(r.single50.p99ms, 1)}`],
  ['batched push (500, mixed kinds): items/s', (r) => f(r.batched500.perSecond)],
  ['batched push: p50 / p99 ms per batch', (r) => `${f(r.batched500.p50ms, 1)} / ${f(r.batched500.p99ms, 1)}`],
  [`full pull of ${f(options.pullItems)} items: s`, (r) => f(r.pull10k.seconds, 2)],
  ['full pull: items/s', (r) => f(r.pull10k.perSecond)],
  ['server RSS at end / peak MB', (r) => `${f(r.rssMb)} / ${f(r.peakRssMb)}`],
];
const width = Math.max(...rows.map((r) => r[0].length));
console.log(`\nKeepsake foundation benchmark (${quick ? 'quick' : 'full'}; node ${process.version})`);
console.log(''.padEnd(width) + results.map((r) => r.store.padStart(18)).join(''));
for (const [label, fn] of rows) console.log(label.padEnd(width) + results.map((r) => fn(r).padStart(18)).join(''));
writeFileSync('bench-results.json', JSON.stringify({ at: new Date().toISOString(), options, results }, null, 2));
console.log('\nwrote bench-results.json');
