// scripts/bundle.ts, which builds the agent's and the vault's bundles: it rebuilds only when an input
// changed, and what it builds runs. And the agent's bundle itself: the parts it loads only when first
// needed (node-pty and the screen mirror, ws, tar) load and work in the real process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS, agentNodeArgs } from '../../sandbox-agent/build.ts';
import { type BundleSpec, ensureBundle } from '../../scripts/bundle.ts';
import { startAgent } from '../support/agent.ts';
import { TtyViewer } from './tty-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'lap-bundle-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function program(greeting: string): BundleSpec {
  writeFileSync(join(dir, 'greeting.ts'), `export const greeting: string = ${JSON.stringify(greeting)};\n`);
  writeFileSync(join(dir, 'main.ts'), "import { greeting } from './greeting.ts';\nconsole.log(greeting);\n");
  return { entry: join(dir, 'main.ts'), bundle: join(dir, 'dist', 'main.cjs'), buildScript: join(dir, 'main.ts'), format: 'cjs', minifyWhitespace: true };
}

const run = (bundle: string) => execFileSync(process.execPath, [bundle], { encoding: 'utf8' }).trim();

describe('ensureBundle', () => {
  it('builds a bundle that runs, keeps it while its inputs are unchanged, and rebuilds after one changes', () => {
    const spec = program('hello');
    const bundle = ensureBundle(spec);
    expect(run(bundle)).toBe('hello');
    const built = statSync(bundle).mtimeMs;
    expect(ensureBundle(spec)).toBe(bundle);
    expect(statSync(bundle).mtimeMs).toBe(built);

    program('hello again');
    const later = new Date(built + 2_000);
    utimesSync(join(dir, 'greeting.ts'), later, later);
    ensureBundle(spec);
    expect(run(bundle)).toBe('hello again');
  });
});

describe('agentNodeArgs', () => {
  it("gives the agent's V8 flags, then its bundle", () => {
    const args = agentNodeArgs();
    expect(args.slice(0, -1)).toEqual(AGENT_NODE_FLAGS);
    expect(args.at(-1)).toMatch(/sandbox-agent\/dist\/agent\.cjs$/);
    expect(statSync(args.at(-1)!).isFile()).toBe(true);
  });
});

describe('the agent bundle', () => {
  it('loads the terminal at the claim, ws at the first viewer and tar at the first archive', async () => {
    const agent = await startAgent();
    try {
      writeFileSync(join(agent.workspace, 'note.txt'), 'kept in the archive');
      const claim = await agent.fetch('/v1/claim', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session: 'bundle', harness: 'shell', env: {} }) });
      expect(claim.status).toBe(200);
      const viewer = await TtyViewer.connect(`${agent.url.replace('http', 'ws')}/v1/tty`, { headers: { authorization: `Bearer ${agent.token}` } });
      viewer.type('echo lazy-$((20+22))\r');
      await viewer.waitForText('lazy-42');
      await viewer.close();
      const archive = await agent.fetch('/v1/archive');
      expect(archive.status).toBe(200);
      expect(Buffer.from(await archive.arrayBuffer()).includes('kept in the archive')).toBe(true);
    } finally {
      await agent.close();
    }
  });
});
