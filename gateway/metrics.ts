// Prometheus metrics (GET /metrics). Session counts by status and the warm pool are read from the
// store at scrape time, so they are right after a restart; latencies and counters are this process's.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionStatus, Store } from './store/types.ts';

const STATUSES: SessionStatus[] = ['creating', 'ready', 'failed', 'dead'];

export function createMetrics(store: Store, poolStats: () => { harness: string; target: number; warm: number; starting: number }[]) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lap_gateway_' });
  const createSeconds = new Histogram({
    name: 'lap_session_create_seconds',
    help: 'Time from POST …/session to ready, by warm (pool) or cold start',
    labelNames: ['start'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const statusChanges = new Counter({ name: 'lap_session_status_changes_total', help: 'Session status changes', labelNames: ['status'], registers: [registry] });
  const vaultRequests = new Counter({ name: 'lap_vault_requests_total', help: 'Requests through the vaults, by decision (allow, block, error)', labelNames: ['decision'], registers: [registry] });
  new Gauge({
    name: 'lap_sessions',
    help: 'Sessions by status (live sessions; failed and dead counted since the store was created)',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const counts = store.sessions.countByStatus();
      for (const status of STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });
  new Gauge({
    name: 'lap_warm_pool_sandboxes',
    help: 'Warm pool sandboxes by harness and state (warm, starting) and the target size',
    labelNames: ['harness', 'state'],
    registers: [registry],
    collect() {
      for (const s of poolStats()) {
        this.set({ harness: s.harness, state: 'warm' }, s.warm);
        this.set({ harness: s.harness, state: 'starting' }, s.starting);
        this.set({ harness: s.harness, state: 'target' }, s.target);
      }
    },
  });
  return { registry, createSeconds, statusChanges, vaultRequests };
}

export type Metrics = ReturnType<typeof createMetrics>;
