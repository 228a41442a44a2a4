import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { Server as HttpServer } from 'node:http';
import { AuditLog } from './audit.ts';
import { createCertificateAuthority } from './ca.ts';
import type { VaultConfig } from './config.ts';
import { controlWarmUpRequests, createControlServer } from './control/app.ts';
import { type DnsServer, startDnsServer } from './dns.ts';
import { listenPlain, listenTls } from './intercept/listeners.ts';
import { createHttpServers } from './intercept/servers.ts';
import { warmUpServer } from './http/warm-up.ts';
import { createUpstream } from './intercept/upstream.ts';
import type { Logger } from './log.ts';
import { DEFAULT_POLICY } from './policy.ts';
import { createResolver } from './resolve.ts';
import type { VaultState } from './state.ts';

export interface RunningVault {
  readonly state: VaultState;
  readonly ports: { tls: number; http: number; dns: number; control: number | string };
  close(): Promise<void>;
}

/** Starts every listener of one sandbox's vault. The CA key is created here and never leaves memory. */
export async function startVault(config: VaultConfig, token: string, log: Logger): Promise<RunningVault> {
  const extraCas = config.upstream.extraCaFiles.map(readCaFile);
  const state: VaultState = {
    session: config.session,
    ca: await createCertificateAuthority({ commonName: `LAP vault CA for ${config.session}` }),
    audit: new AuditLog(),
    resolve: createResolver({ hosts: config.upstream.hosts }),
    upstreamTls: once(() => createSecureContext({ ca: [...rootCertificates, ...extraCas] })),
    credentials: [],
    policy: DEFAULT_POLICY,
  };
  const upstream = createUpstream(state, config.limits, config.upstream.http2);
  const servers = createHttpServers(state, upstream, config.limits, log);
  const listenOpts = { address: config.listen.address, sandboxAddress: config.sandboxAddress, limits: config.limits, log };
  const tls = await listenTls({ ...listenOpts, port: config.listen.tlsPort }, state.ca, servers, state.audit, state.session);
  const http = await listenPlain({ ...listenOpts, port: config.listen.httpPort }, servers);
  const dns = await startDnsServer({
    address: config.listen.address,
    port: config.listen.dnsPort,
    syntheticAddress: config.syntheticAddress,
    policy: () => state.policy,
  });
  const controlServer = createControlServer(state, token);
  await warmUpServer(controlServer, controlWarmUpRequests(token));
  const control = await listenControl(controlServer, config.control);
  state.audit.subscribe((e) => log.info({ audit: e }, e.decision === 'allow' ? 'request relayed' : 'request refused'));

  return {
    state,
    ports: { tls: tls.port, http: http.port, dns: dns.udpPort, control: typeof config.control === 'object' && 'socket' in config.control ? config.control.socket : portOf(control) },
    async close() {
      await Promise.all([tls.close(), http.close(), closeServer(control), dns.close(), upstream.close()]);
    },
  };
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

function readCaFile(path: string): string {
  const pem = readFileSync(path, 'utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`upstream.extraCaFiles: ${path} holds no PEM certificate`);
  return pem;
}

function listenControl(server: HttpServer, where: VaultConfig['control']): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if ('socket' in where) server.listen(where.socket, () => resolve(server));
    else server.listen(where.port, where.host, () => resolve(server));
  });
}

function portOf(server: HttpServer): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

function closeServer(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export type { DnsServer };
