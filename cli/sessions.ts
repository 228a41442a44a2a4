// Finding and starting sessions for the commands: an id or a unique prefix of one, the newest live
// session of an agent, and a create that shows its phases on a spinner.
import { readSse } from '../gateway/sessions/sse-reader.ts';
import { type Client, MANAGED } from './client.ts';
import { CliError, EXIT } from './errors.ts';
import { Spinner } from './spinner.ts';

export interface Session {
  id: string;
  agent_id: string;
  title: string | null;
  harness: string;
  status: 'creating' | 'ready' | 'failed' | 'dead';
  failure_reason: string | null;
  created_at: string;
  last_activity_at: string;
}

export interface Agent {
  id: string;
  name: string;
  harness: string;
  [field: string]: unknown;
}

const PAGE = 200;
const MAX_PAGES = 50;

/** Every session the key can see, newest first (bounded: 10 000). */
export async function listSessions(client: Client, filter: Record<string, string> = {}): Promise<Session[]> {
  const all: Session[] = [];
  let after: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ ...filter, limit: String(PAGE), ...(after ? { after } : {}) });
    const result: { data: Session[]; next: string | null } = await client.json('GET', `${MANAGED}/sessions?${query}`);
    all.push(...result.data);
    if (!(after = result.next)) break;
  }
  return all;
}

/** A full id, or a prefix that matches exactly one session. */
export async function resolveSession(client: Client, ref: string): Promise<Session> {
  const exact = await client.json<Session>('GET', `${MANAGED}/sessions/${encodeURIComponent(ref)}`).catch((err) => {
    if (err instanceof CliError && err.exitCode === EXIT.notFound) return undefined;
    throw err;
  });
  if (exact) return exact;
  const matches = (await listSessions(client)).filter((s) => s.id.startsWith(ref) || s.id.replace(/^ses_/, '').startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new CliError(`no session matches ${ref}`, { hint: 'lap ls lists your sessions', exitCode: EXIT.notFound });
  throw new CliError(`${ref} matches ${matches.length} sessions: ${matches.slice(0, 5).map((s) => s.id).join(', ')}${matches.length > 5 ? ', …' : ''}`, { hint: 'type more of the id' });
}

export async function newestReadySession(client: Client, agent: Agent): Promise<Session | undefined> {
  const page: { data: Session[] } = await client.json('GET', `${MANAGED}/sessions?agent_id=${agent.id}&status=ready&limit=1`);
  return page.data[0];
}

/** Creates a session and waits for it, showing each phase; a failed start is an error with its reason. */
export async function createSession(client: Client, agent: Agent, size?: { cols: number; rows: number }): Promise<Session> {
  const spinner = new Spinner();
  spinner.update(`starting a ${agent.harness} session of ${agent.name}`);
  try {
    const created = await client.json<Session>('POST', `${MANAGED}/agents/${encodeURIComponent(agent.id)}/session`, size ?? {});
    await followPhases(client, created.id, (text) => spinner.update(`${created.id}: ${text}`));
    const session = await client.json<Session>('GET', `${MANAGED}/sessions/${created.id}`);
    if (session.status !== 'ready') {
      throw new CliError(`session ${session.id} ${session.status}: ${session.failure_reason ?? 'no reason given'}`, { hint: `lap logs ${session.id} shows every step` });
    }
    spinner.stop(`session ${session.id} ready`);
    return session;
  } finally {
    spinner.stop();
  }
}

/** Reads the session's events until it leaves `creating`. */
async function followPhases(client: Client, id: string, show: (text: string) => void): Promise<void> {
  const response = await client.fetch(`${MANAGED}/sessions/${id}/events`, { headers: { accept: 'text/event-stream' } });
  for await (const message of readSse(response.body!)) {
    const event = JSON.parse(message.data) as { type: string; data: { phase?: string; status?: string } };
    if (event.type === 'phase') show(`${event.data.phase} ${event.data.status === 'done' ? 'done' : '…'}`);
    if (event.type === 'session.status' && event.data.status !== 'creating') break;
  }
  await response.body?.cancel().catch(() => {});
}
