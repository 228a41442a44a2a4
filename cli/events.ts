// Printing a session's event log (lap logs) or its vault audit trail (lap vault): a page at a time,
// or followed live over SSE until the session ends.
import { readSse } from '../gateway/sessions/sse-reader.ts';
import { type Client, MANAGED } from './client.ts';
import { printable } from './output.ts';

export interface SessionEvent {
  seq: number;
  ts: string;
  type: string;
  data: Record<string, unknown>;
}

export interface PrintOptions {
  follow: boolean;
  json: boolean;
  /** 'audit': only the vault's events. */
  log: 'events' | 'audit';
}

const PAGE = 1000;

export async function printEvents(client: Client, sessionId: string, opts: PrintOptions): Promise<void> {
  const stored = await storedEvents(client, sessionId, opts.log);
  if (opts.json && !opts.follow) return void process.stdout.write(`${JSON.stringify(stored, null, 2)}\n`);
  const print = (e: SessionEvent) => process.stdout.write(`${opts.json ? JSON.stringify(e) : formatEvent(e)}\n`);
  stored.forEach(print);
  if (!opts.follow) return;
  const after = stored.at(-1)?.seq ?? 0;
  const response = await client.fetch(`${MANAGED}/sessions/${sessionId}/events`, { headers: { accept: 'text/event-stream', 'last-event-id': String(after) } });
  for await (const message of readSse(response.body!)) {
    const event = JSON.parse(message.data) as SessionEvent;
    if (opts.log === 'events' || event.type.startsWith('vault.')) print(event);
  }
}

async function storedEvents(client: Client, sessionId: string, log: PrintOptions['log']): Promise<SessionEvent[]> {
  const all: SessionEvent[] = [];
  for (let after = 0; ; ) {
    const page: { data: SessionEvent[]; last_seq: number } = await client.json('GET', `${MANAGED}/sessions/${sessionId}/${log}?after=${after}&limit=${PAGE}`);
    all.push(...page.data);
    if (page.data.length < PAGE) return all;
    after = page.last_seq;
  }
}

/** `#12  14:03:07  vault.request  host=api.github.com decision=allow credentials=GITHUB_TOKEN` */
export function formatEvent(e: SessionEvent): string {
  const time = e.ts.slice(11, 19);
  const fields = Object.entries(e.data).map(([k, v]) => `${k}=${typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : JSON.stringify(v)}`);
  return printable(`#${e.seq}  ${time}  ${e.type}  ${fields.join(' ')}`.trimEnd());
}
