// The wire shape of a session (snake_case, as the reference platform), and its schema for OpenAPI.
import { z } from 'zod';
import type { SessionEvent, SessionRecord } from '../store/types.ts';

export const sessionSchema = z
  .object({
    id: z.string(),
    agent_id: z.string(),
    title: z.string().nullable(),
    harness: z.string(),
    status: z.enum(['creating', 'ready', 'failed', 'dead']),
    failure_reason: z.string().nullable().describe('Why the session failed, or why it ended when dead (deleted, idle, harness exit)'),
    warm: z.boolean().describe('Started from a warm sandbox'),
    created_at: z.string(),
    updated_at: z.string(),
    ready_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    last_activity_at: z.string(),
  })
  .meta({ id: 'Session' });

export const sessionEventSchema = z
  .object({ seq: z.number().int(), ts: z.string(), type: z.string(), data: z.record(z.string(), z.unknown()) })
  .meta({ id: 'SessionEvent' });

export function sessionView(s: SessionRecord): z.infer<typeof sessionSchema> {
  return {
    id: s.id,
    agent_id: s.agentId,
    title: s.title,
    harness: s.harness,
    status: s.status,
    failure_reason: s.failureReason,
    warm: s.warm,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    ready_at: s.readyAt,
    ended_at: s.endedAt,
    last_activity_at: s.lastActivityAt,
  };
}

export function eventView(e: SessionEvent): z.infer<typeof sessionEventSchema> {
  return { seq: e.seq, ts: e.ts, type: e.type, data: e.data };
}
