// Prometheus metrics for /metrics: requests, latencies, and what the store holds.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RecordStore } from '../core/ports/record-store.js';

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
  const stats = () => store.stats();
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
  return {
    registry,
    observe(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
  };
}
