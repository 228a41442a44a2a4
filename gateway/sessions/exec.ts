// POST …/sessions/{id}/exec: one command in the session's sandbox, without a PTY. The agent's NDJSON
// frames stream through unchanged, so output arrives as it is written and the exit frame comes last.
import { z } from 'zod';
import type { ExecRequest } from '../../sandbox-agent/protocol.ts';
import { defineRoute, type RouteSpec } from '../api/route.ts';
import { agentApiError, agentControl } from './control-client.ts';
import type { SessionService } from './service.ts';

const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;
/** The agent takes stdin up to 64 MiB; the gateway's body limit is set to match (base64 is 4/3). */
const BODY_LIMIT = 90 * 1024 * 1024;

const execBody = z.strictObject({
  argv: z.array(z.string().max(128 * 1024)).min(1).max(4096).describe('The command and its arguments; no shell (use ["sh","-c","…"])'),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must match ^[A-Za-z_][A-Za-z0-9_]*$'), z.string()).optional()
    .describe("Set on top of the session's environment (the harness's: stubs, CA variables)"),
  cwd: z.string().max(4096).optional().describe('Relative to the workspace (default: the workspace)'),
  timeout_ms: z.int().min(1).max(MAX_TIMEOUT_MS).optional().describe('Default 10 minutes; then the process group gets SIGTERM, then SIGKILL'),
  stdin: z.base64().optional().describe('base64, written to stdin which is then closed; without it stdin is empty'),
});

export const execFrameSchema = z
  .union([
    z.object({ type: z.enum(['stdout', 'stderr']), data: z.string().describe('base64') }),
    z.object({ type: z.literal('exit'), code: z.int().nullable(), signal: z.string().nullable(), timedOut: z.boolean() }),
  ])
  .meta({ id: 'ExecFrame' });

export function execRoute(service: SessionService): RouteSpec {
  return defineRoute({
    method: 'post', path: '/api/v1/managed_agents/sessions/{id}/exec', tag: 'Sessions', auth: 'key',
    summary: "Run a command in the session's sandbox (no PTY). Streams application/x-ndjson: stdout/stderr frames as output arrives, then one exit frame",
    params: z.object({ id: z.string().min(1).max(64) }), body: execBody, bodyLimit: BODY_LIMIT,
    responses: {
      200: { description: 'One ExecFrame per line; the last is {"type":"exit",…}', schema: execFrameSchema, contentType: 'application/x-ndjson' },
      400: { description: 'Invalid request (or cwd not a directory)' }, 403: { description: 'cwd leads outside the workspace' },
      404: { description: 'No such session (or not yours)' }, 409: { description: 'The session is not ready' },
      503: { description: "The sandbox's agent did not answer" },
    },
    handler: async (c, { params, body }) => {
      const { session, handle } = service.readySandbox(c.get('key'), params.id, 'exec');
      service.touch(session.id);
      const request: ExecRequest = { argv: body.argv, env: body.env, cwd: body.cwd, timeoutMs: body.timeout_ms, stdin: body.stdin };
      return streamFromAgent(() => agentControl.exec(handle, request, c.req.raw.signal));
    },
  });
}

async function streamFromAgent(start: () => Promise<Response>): Promise<Response> {
  const response = await start().catch((err: unknown) => {
    throw agentApiError(err);
  });
  return new Response(response.body, { status: 200, headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' } });
}
