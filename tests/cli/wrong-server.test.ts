// lap pointed at a URL where something other than LAP answers (a mistyped port, a proxy's HTML error
// page, a web server that answers 200 to everything): one line that says so, never the page itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLap } from '../support/lap.ts';

const PAGE = '<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>';

describe('lap against a server that is not LAP', () => {
  let server: Server;
  let home: string;
  beforeAll(async () => {
    // /missing/… answers 404 with an HTML page; anything else 200 with the same page.
    server = createServer((req, res) => {
      res.writeHead(req.url!.startsWith('/missing') ? 404 : 200, { 'content-type': 'text/html' });
      res.end(PAGE);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    home = mkdtempSync(join(tmpdir(), 'lap-wrong-server-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(home, { recursive: true, force: true });
  });

  const lapAt = (path: string, args: string[]) => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    return runLap(args, { PATH: process.env.PATH!, HOME: home, XDG_CONFIG_HOME: home, LAP_URL: url, LAP_API_KEY: 'lap_anything' });
  };

  it.each([
    ['an HTML error page', '/missing', ['ls'], '404 Not Found'],
    ['an HTML page with 200', '', ['ls'], '200 OK'],
    ['an HTML error page, for exec', '/missing', ['exec', 'ses_x', '--', 'true'], '404 Not Found'],
  ])('%s: one line naming the URL, exit 255', async (_what, path, args, status) => {
    const result = await lapAt(path, args);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
    expect(result.code).toBe(255);
    expect(result.stderr).toBe(`lap: ${url} answered ${status} (text/html), which is not LAP's API\n  hint: is LAP_URL a LAP gateway? \`lap login --url <url>\` sets it; \`npm start\` prints it\n`);
    expect(result.stdout).toBe('');
  });
});
