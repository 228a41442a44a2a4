// A smart-HTTP git server over HTTPS on loopback for the claim tests: `git http-backend` as CGI behind
// a Node https server with a certificate from a test CA. It demands Basic auth and records what each
// request carried, so a test can check which credential git sent and that none was in a URL.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority } from '../../vault/ca.ts';

export const GIT_HOST = 'git.lap.test';

export interface GitRequest {
  method: string;
  url: string;
  username: string | null;
  password: string | null;
}

export interface GitHttpServer {
  readonly port: number;
  /** The test CA's certificate, for GIT_SSL_CAINFO. */
  readonly caFile: string;
  /** https://git.lap.test:PORT/repo.git */
  readonly repositoryUrl: string;
  readonly bareRepository: string;
  readonly received: GitRequest[];
  /** Env that makes git reach GIT_HOST on 127.0.0.1 (no DNS) and trust the test CA. */
  readonly clientEnv: Record<string, string>;
  close(): Promise<void>;
}

/** A bare repo.git with `main` (README) and `feature` (README + feature.txt), served at GIT_HOST. */
export async function startGitHttpServer(): Promise<GitHttpServer> {
  const root = mkdtempSync(join(tmpdir(), 'lap-git-server-'));
  const bareRepository = join(root, 'repo.git');
  makeFixtureRepository(root, bareRepository);
  const ca = await createCertificateAuthority({ commonName: 'LAP test git CA' });
  const caFile = join(root, 'ca.pem');
  writeFileSync(caFile, ca.certificatePem);
  const received: GitRequest[] = [];
  const server: Server = createServer(
    { SNICallback: (name, done) => void ca.secureContextFor(name).then((ctx) => done(null, ctx), done) },
    (req, res) => serveGit(root, req, res, received),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port, caFile, bareRepository, received,
    repositoryUrl: `https://${GIT_HOST}:${port}/repo.git`,
    clientEnv: { GIT_SSL_CAINFO: caFile, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.curloptResolve', GIT_CONFIG_VALUE_0: `${GIT_HOST}:${port}:127.0.0.1` },
    close: async () => {
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function serveGit(root: string, req: IncomingMessage, res: ServerResponse, received: GitRequest[]): void {
  const url = new URL(req.url ?? '/', `https://${GIT_HOST}`);
  const basic = /^Basic (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const [username, password] = basic ? splitOnce(Buffer.from(basic, 'base64').toString('utf8'), ':') : [null, null];
  received.push({ method: req.method ?? '', url: req.url ?? '', username, password });
  if (!username) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="lap test git"' }).end('authentication required\n');
    return;
  }
  const cgi = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, GIT_CONFIG_NOSYSTEM: '1',
      GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1', REMOTE_USER: username, REMOTE_ADDR: '127.0.0.1',
      PATH_INFO: url.pathname, REQUEST_METHOD: req.method ?? 'GET', QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(req.headers['git-protocol'] ? { HTTP_GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  req.pipe(cgi.stdin);
  const output: Buffer[] = [];
  cgi.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  cgi.on('close', () => sendCgiResponse(Buffer.concat(output), res));
}

/** CGI output: header lines (with an optional Status:), a blank line, then the body. */
function sendCgiResponse(output: Buffer, res: ServerResponse): void {
  const crlf = output.indexOf('\r\n\r\n');
  const end = crlf !== -1 ? crlf : output.indexOf('\n\n');
  if (end === -1) return void res.writeHead(502).end('bad CGI output\n');
  const headers: Record<string, string> = {};
  let status = 200;
  for (const line of output.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const [name, value] = splitOnce(line, ':');
    if (name.toLowerCase() === 'status') status = Number.parseInt(value.trim(), 10);
    else headers[name] = value.trim();
  }
  res.writeHead(status, headers).end(output.subarray(end + (crlf !== -1 ? 4 : 2)));
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, ''] : [text.slice(0, at), text.slice(at + separator.length)];
}

function makeFixtureRepository(root: string, bare: string): void {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@lap.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@lap.test' };
  const work = join(root, 'work');
  const git = (...args: string[]) => execFileSync('git', args, { env, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('git', ['init', '--quiet', '-b', 'main', work], { env });
  writeFileSync(join(work, 'README'), 'on main\n');
  git('add', 'README');
  git('commit', '--quiet', '-m', 'main');
  git('checkout', '--quiet', '-b', 'feature');
  writeFileSync(join(work, 'feature.txt'), 'on feature\n');
  git('add', 'feature.txt');
  git('commit', '--quiet', '-m', 'feature');
  execFileSync('git', ['clone', '--quiet', '--bare', work, bare], { env });
}
