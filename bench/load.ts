// Load generators for the benchmarks: simulated devices pushing and pulling over real HTTP.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';

export interface Device {
  token: string;
  n: number;
}

export interface LatencyStats {
  count: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function summarize(latencies: number[], items: number, seconds: number): LatencyStats {
  const s = [...latencies].sort((a, b) => a - b);
  return { count: items, seconds, perSecond: items / seconds, p50ms: percentile(s, 50), p99ms: percentile(s, 99) };
}

export class Http {
  private readonly agent = new Agent({ connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
  constructor(private readonly base: string) {}

  async json(method: 'GET' | 'POST' | 'PUT', path: string, body: unknown, headers: Record<string, string>): Promise<any> {
    const r = await request(this.base + path, {
      method,
      dispatcher: this.agent,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

const KIND_ORDER = ['contacts', 'calendar', 'tasks', 'notes', 'scores'] as const;

/** One realistic new item of a kind (photos are benchmarked separately: they are blob uploads). */
export function makeChange(kind: (typeof KIND_ORDER)[number], seq: number) {
  const id = `${kind}-${randomUUID()}`;
  let content: unknown;
  switch (kind) {
    case 'contacts':
      content = `BEGIN:VCARD\r\nVERSION:4.0\r\nUID:${id}\r\nFN:Person ${seq}\r\nN:${seq};Person;;;\r\nEMAIL;TYPE=work:p${seq}@example.org\r\nTEL;TYPE=cell:+1 555 ${String(seq).padStart(7, '0')}\r\nADR;TYPE=home:;;${seq} Main St;Springfield;;12345;USA\r\nNOTE:Met at conference ${seq}\r\nEND:VCARD\r\n`;
      break;
    case 'calendar':
      content = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Keepsake//bench//EN\r\nBEGIN:VEVENT\r\nUID:${id}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=20\r\nSUMMARY:Meeting ${seq}\r\nLOCATION:Room ${seq % 40}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
      break;
    case 'tasks':
      content = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Keepsake//bench//EN\r\nBEGIN:VTODO\r\nUID:${id}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Task ${seq}\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n`;
      break;
    case 'notes':
      content = { title: `Note ${seq}`, body: `# Note ${seq}\n\n${'Some text. '.repeat(20)}` };
      break;
    case 'scores':
      content = { game: `Game ${seq % 7}`, score: seq * 13, achievedAt: '2026-01-01T12:00:00Z', player: 'bench' };
      break;
  }
  return { changeId: randomUUID(), collection: kind, id, baseVersion: null, content };
}

export function mixedChange(seq: number) {
  return makeChange(KIND_ORDER[seq % KIND_ORDER.length], seq);
}

/** `devices` loops, each pushing one item per request for `seconds`. */
export async function singlePushes(http: Http, devices: Device[], seconds: number): Promise<LatencyStats> {
  const latencies: number[] = [];
  let items = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    devices.map(async (d) => {
      const headers = { authorization: `Bearer ${d.token}` };
      while (Date.now() < end) {
        const start = performance.now();
        const r = await http.json('POST', '/api/v1/changes', { changes: [mixedChange(d.n++)] }, headers);
        latencies.push(performance.now() - start);
        if (r.results[0].status !== 'applied') throw new Error(JSON.stringify(r.results[0]));
        items++;
      }
    }),
  );
  return summarize(latencies, items, (performance.now() - t0) / 1000);
}

/** Batches of `batch` mixed items from `devices` in parallel until `total` items are pushed. */
export async function batchedPushes(http: Http, devices: Device[], batch: number, total: number): Promise<LatencyStats> {
  const latencies: number[] = [];
  let items = 0;
  const t0 = performance.now();
  await Promise.all(
    devices.map(async (d) => {
      const headers = { authorization: `Bearer ${d.token}` };
      while (items < total) {
        items += batch;
        const changes = Array.from({ length: batch }, () => mixedChange(d.n++));
        const start = performance.now();
        const r = await http.json('POST', '/api/v1/changes', { changes }, headers);
        latencies.push(performance.now() - start);
        if (r.results.some((x: any) => x.status !== 'applied')) throw new Error('a batched change was not applied');
      }
    }),
  );
  return summarize(latencies, items, (performance.now() - t0) / 1000);
}

/** Pulls a whole account from the start; returns items/s. */
export async function fullPull(http: Http, token: string, pageSize = 5000): Promise<LatencyStats & { pages: number }> {
  const headers = { authorization: `Bearer ${token}` };
  const latencies: number[] = [];
  let cursor = '';
  let items = 0;
  let pages = 0;
  const t0 = performance.now();
  for (;;) {
    const start = performance.now();
    const r = await http.json('GET', `/api/v1/changes?since=${cursor}&limit=${pageSize}`, undefined, headers);
    latencies.push(performance.now() - start);
    items += r.changes.length;
    pages++;
    cursor = r.cursor;
    if (!r.more) break;
  }
  return { ...summarize(latencies, items, (performance.now() - t0) / 1000), pages };
}
