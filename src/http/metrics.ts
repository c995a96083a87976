// Prometheus metrics for /metrics: requests, latencies, and what the store holds.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RecordStore, StoreStats } from '../core/ports/record-store.js';

/** One backup target's figures for /metrics (issue 3). */
export interface BackupMetricsSource {
  target: string;
  lagSeconds: number;
  lastShipAt: string | null;
  state: string;
  lastVerification: { at: string; ok: boolean } | null;
  /** The server's rolling re-read of every object, when it runs. */
  rolling?: { problems: unknown[]; lastCleanRoundAt: string | null };
}

/** Backup lag, last successful ship and last verified restore age per target. */
export function addBackupGauges(registry: Registry, status: () => BackupMetricsSource[]): void {
  const epochSeconds = (iso: string | null | undefined) => (iso ? Date.parse(iso) / 1000 : 0);
  new Gauge({
    name: 'keepsake_backup_lag_seconds',
    help: 'seconds since the oldest change a backup target does not have yet (0: up to date)',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      for (const t of status()) this.set({ target: t.target }, t.lagSeconds);
    },
  });
  new Gauge({
    name: 'keepsake_backup_last_ship_timestamp_seconds',
    help: 'when a backup target last received a segment (unix time; 0: not since start-up)',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      for (const t of status()) this.set({ target: t.target }, epochSeconds(t.lastShipAt));
    },
  });
  new Gauge({
    name: 'keepsake_backup_target_up',
    help: '1 when the backup target is accepting writes, 0 when failing',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      for (const t of status()) this.set({ target: t.target }, t.state === 'failing' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'keepsake_backup_last_verified_restore_age_seconds',
    help: 'seconds since the last successful verification (with restores) of a backup target; -1: never',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      for (const t of status()) {
        const v = t.lastVerification;
        this.set({ target: t.target }, v && v.ok ? Date.now() / 1000 - epochSeconds(v.at) : -1);
      }
    },
  });
  addRollingGauge(registry, status);
}

/** Damage the rolling re-read found since start-up, per target. */
function addRollingGauge(registry: Registry, status: () => BackupMetricsSource[]): void {
  new Gauge({
    name: 'keepsake_backup_damaged_objects',
    help: 'damaged or unreadable objects the rolling re-read of a backup target found since start-up (0: none)',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      for (const t of status()) this.set({ target: t.target }, t.rolling?.problems.length ?? 0);
    },
  });
}

export interface HttpMetrics {
  registry: Registry;
  observe(method: string, route: string, status: number, seconds: number): void;
}

/** A registry per server (tests run several servers in one process). */
export function createMetrics(store: RecordStore): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keepsake_' });
  const requests = new Counter({
    name: 'keepsake_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'keepsake_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // One scrape collects three gauges from the same figures: ask the store once per second at most.
  let cached: { at: number; value: Promise<StoreStats> } | null = null;
  const stats = (): Promise<StoreStats> => {
    const now = Date.now();
    if (!cached || now - cached.at > 1000) {
      const value = store.stats();
      value.catch(() => (cached = null));
      cached = { at: now, value };
    }
    return cached.value;
  };
  new Gauge({
    name: 'keepsake_users',
    help: 'accounts in the store',
    registers: [registry],
    async collect() {
      this.set((await stats()).users);
    },
  });
  new Gauge({
    name: 'keepsake_items',
    help: 'live items in the store',
    registers: [registry],
    async collect() {
      this.set((await stats()).liveItems);
    },
  });
  new Gauge({
    name: 'keepsake_store_bytes',
    help: 'bytes the record store occupies',
    registers: [registry],
    async collect() {
      this.set((await stats()).bytes);
    },
  });
  addDurabilityGauge(registry, store);
  return {
    registry,
    observe(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
  };
}

/**
 * How the store groups writes (SQLite: fsyncs, groups, writes; PostgreSQL: commits, calls, ...),
 * counted since start-up: writes per fsync shows whether concurrent clients share fsyncs.
 */
function addDurabilityGauge(registry: Registry, store: RecordStore): void {
  const source = store as RecordStore & { durabilityStats?: () => object };
  if (typeof source.durabilityStats !== 'function') return;
  new Gauge({
    name: 'keepsake_store_durability',
    help: 'group commit counters since start-up, by counter (SQLite: fsyncs, groups, writes; PostgreSQL: commits, calls, retries, splits)',
    labelNames: ['counter'],
    registers: [registry],
    collect() {
      for (const [k, v] of Object.entries(source.durabilityStats!())) if (typeof v === 'number') this.set({ counter: k }, v);
    },
  });
}
