// Operational routes: health for probes, Prometheus metrics, and the warm pool for admins.
import { z } from 'zod';
import { defineRoute, type RouteSpec } from './api/route.ts';
import type { Metrics } from './metrics.ts';
import type { PoolStats } from './sessions/warm-pool.ts';

const poolSchema = z.object({ data: z.array(z.object({ harness: z.string(), target: z.number().int(), warm: z.number().int(), starting: z.number().int() })) }).meta({ id: 'WarmPool' });

export function adminRoutes(deps: { metrics: Metrics; poolStats: () => PoolStats[]; ready: () => boolean }): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/healthz', tag: 'Operations', auth: 'none', summary: 'Liveness: the process answers',
      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
      handler: (c) => c.json({ status: 'ok' as const }),
    }),
    defineRoute({
      method: 'get', path: '/readyz', tag: 'Operations', auth: 'none', summary: 'Readiness: sandboxes were re-adopted and the gateway takes requests',
      responses: { 200: { description: 'Ready', schema: z.object({ ready: z.boolean() }) }, 503: { description: 'Still starting' } },
      handler: (c) => (deps.ready() ? c.json({ ready: true }) : c.json({ error: { code: 'not_ready', message: 'still re-adopting sandboxes', details: [] } }, 503)),
    }),
    defineRoute({
      method: 'get', path: '/metrics', tag: 'Operations', auth: 'none',
      summary: 'Prometheus metrics: sessions by status, create latency warm/cold, vault requests and blocks, warm pool',
      responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain; version=0.0.4' } },
      handler: async (c) => c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
    }),
    defineRoute({
      method: 'get', path: '/api/v1/admin/pool', tag: 'Operations', auth: 'admin', summary: 'The warm pool: target, warm and starting sandboxes per harness',
      responses: { 200: { description: 'Pool state', schema: poolSchema } },
      handler: (c) => c.json({ data: deps.poolStats() }),
    }),
  ];
}
