// Issue 6, point 3: the gateway's harness directory (LAP_HARNESS_DIR) reaches the sandbox, and a session
// whose harness is not installed there fails with the command that installs it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { isRoot, warnIfSkipped } from '../support/root.ts';

warnIfSkipped('a harness that is not installed (local runtime)');

describe.runIf(isRoot)('a harness missing from LAP_HARNESS_DIR', () => {
  let gw: TestGateway;
  let harnessDir: string;

  beforeAll(async () => {
    harnessDir = mkdtempSync(join(tmpdir(), 'lap-empty-harnesses-'));
    gw = await startTestGateway({ env: { LAP_HARNESS_DIR: harnessDir } });
    await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'cc', harness: 'claude-code' }, 201);
    await gw.json('POST', '/api/v1/managed_agents/agents', { name: 'sh', harness: 'shell' }, 201);
  });
  afterAll(async () => {
    await gw?.close();
    rmSync(harnessDir, { recursive: true, force: true });
  });

  it('fails the session naming the install command', async () => {
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/cc/session?wait=true', {}, 201);
    expect(session.status).toBe('failed');
    expect(session.failure_reason).toContain('harness claude-code is not installed: run npm run harness:install -- claude-code (or lap harness install claude-code)');
    expect(session.failure_reason).toContain(`${harnessDir}/claude-code/node_modules/.bin/claude is missing`);
  });

  it('shows the directory inside the sandbox at its path, read-only, and names it in LAP_HARNESS_DIR', async () => {
    const session = await gw.json('POST', '/api/v1/managed_agents/agents/sh/session?wait=true', {}, 201);
    expect(session.status, session.failure_reason).toBe('ready');
    const script = 'echo "dir=$LAP_HARNESS_DIR"; test -d "$LAP_HARNESS_DIR" && echo visible; touch "$LAP_HARNESS_DIR/x" 2>&1';
    const response = await gw.call('POST', `/api/v1/managed_agents/sessions/${session.id}/exec`, { argv: ['sh', '-c', script] });
    const frames = (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    const stdout = frames.filter((f) => f.type === 'stdout').map((f) => Buffer.from(f.data, 'base64').toString()).join('');
    expect(stdout).toContain(`dir=${harnessDir}\nvisible\n`);
    expect(stdout).toMatch(/Read-only file system/);
    await gw.json('DELETE', `/api/v1/managed_agents/sessions/${session.id}`, undefined, 200);
  });
});
