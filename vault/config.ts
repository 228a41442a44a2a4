import { readFileSync, rmSync } from 'node:fs';
import { type Parsed, Reader, withDefault } from './validate.ts';

/** The vault's start-up configuration, one JSON file per sandbox, written by whoever starts it. */
export interface VaultConfig {
  session: string;
  listen: { address: string; tlsPort: number; httpPort: number; dnsPort: number };
  /** Interception connections are accepted only from this address (the sandbox's end of the veth). */
  sandboxAddress?: string;
  /** The control API: host loopback port or unix socket, never the interception address. */
  control: { host: string; port: number } | { socket: string };
  /** File holding the control token; removed once read so nothing else on the host finds it. */
  tokenFile: string;
  /** What the DNS listener answers for allowed names; routing is by name, so any vault address works. */
  syntheticAddress: string;
  upstream: {
    extraCaFiles: string[];
    /** Explicit name → 'ip' or 'ip:port' map; names in it are never looked up in DNS. */
    hosts: Record<string, string>;
    /**
     * Offer HTTP/2 to upstreams (ALPN; HTTP/1.1 when they do not take it). Default true. false keeps
     * every upstream on HTTP/1.1 pools, which costs the vault about a third less CPU per request.
     */
    http2: boolean;
  };
  limits: VaultLimits;
}

export interface VaultLimits {
  maxConnections: number;
  maxHeaderBytes: number;
  idleTimeoutMs: number;
  headersTimeoutMs: number;
  /** How long an upstream may take to send its response headers before the request fails with 502. */
  upstreamHeadersTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<VaultLimits> = {
  maxConnections: 1024,
  maxHeaderBytes: 32 * 1024,
  idleTimeoutMs: 120_000,
  headersTimeoutMs: 15_000,
  upstreamHeadersTimeoutMs: 60_000,
};

type Path = readonly (string | number)[];

const port = (r: Reader, value: unknown, path: Path) => r.integer(value, path, { min: 0, max: 65535 });

function readListen(r: Reader, value: unknown): VaultConfig['listen'] | undefined {
  const o = r.object(value, ['listen']);
  if (!o) return undefined;
  const listen = {
    address: r.ipv4(o.address, ['listen', 'address']),
    tlsPort: port(r, o.tlsPort, ['listen', 'tlsPort']),
    httpPort: port(r, o.httpPort, ['listen', 'httpPort']),
    dnsPort: port(r, o.dnsPort, ['listen', 'dnsPort']),
  };
  return Object.values(listen).includes(undefined) ? undefined : (listen as VaultConfig['listen']);
}

function readControl(r: Reader, value: unknown): VaultConfig['control'] | undefined {
  const o = r.object(value, ['control']);
  if (!o) return undefined;
  if (o.socket !== undefined) {
    const socket = r.string(o.socket, ['control', 'socket'], { min: 1 });
    return socket === undefined ? undefined : { socket };
  }
  const host = withDefault(o.host, '127.0.0.1', (v) => r.string(v, ['control', 'host']));
  const controlPort = port(r, o.port, ['control', 'port']);
  return host === undefined || controlPort === undefined ? undefined : { host, port: controlPort };
}

function readUpstream(r: Reader, value: unknown): VaultConfig['upstream'] | undefined {
  const o = withDefault(value, {}, (v) => r.object(v, ['upstream']));
  if (!o) return undefined;
  const extraCaFiles = withDefault(o.extraCaFiles, [], (v) => r.array(v, ['upstream', 'extraCaFiles'], (f, p) => r.string(f, p)));
  const hosts = withDefault(o.hosts, {}, (v) => r.record(v, ['upstream', 'hosts']));
  const http2 = withDefault(o.http2, true, (v) => r.boolean(v, ['upstream', 'http2']));
  return extraCaFiles === undefined || hosts === undefined || http2 === undefined ? undefined : { extraCaFiles, hosts, http2 };
}

function readLimits(r: Reader, value: unknown): VaultLimits | undefined {
  const o = withDefault(value, {}, (v) => r.object(v, ['limits']));
  if (!o) return undefined;
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof VaultLimits)[]) {
    const read = withDefault(o[key], DEFAULT_LIMITS[key], (v) => r.integer(v, ['limits', key], { min: 1 }));
    if (read !== undefined) limits[key] = read;
  }
  return limits;
}

/** Checks a parsed config file field by field and fills in the defaults. */
export function parseVaultConfig(raw: unknown): Parsed<VaultConfig> {
  const r = new Reader();
  const o = r.object(raw, []) ?? {};
  const config = {
    session: r.string(o.session, ['session'], { min: 1, max: 128 }),
    listen: readListen(r, o.listen),
    ...(o.sandboxAddress === undefined ? {} : { sandboxAddress: r.ipv4(o.sandboxAddress, ['sandboxAddress']) }),
    control: readControl(r, o.control),
    tokenFile: r.string(o.tokenFile, ['tokenFile'], { min: 1 }),
    syntheticAddress: r.ipv4(o.syntheticAddress, ['syntheticAddress']),
    upstream: readUpstream(r, o.upstream),
    limits: readLimits(r, o.limits),
  };
  return r.done(config as VaultConfig);
}

export function loadVaultConfig(path: string): VaultConfig {
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const parsed = parseVaultConfig(raw);
  if (!parsed.ok) {
    const issues = parsed.issues.map((i) => `${i.field || '(root)'}: ${i.message}`);
    throw new Error(`invalid vault config ${path}: ${issues.join('; ')}`);
  }
  return parsed.value;
}

/** Reads the control token and deletes the file: the token then lives only in this process. */
export function takeToken(path: string): string {
  const token = readFileSync(path, 'utf8').trim();
  rmSync(path, { force: true });
  if (token.length < 32) throw new Error(`control token in ${path} is shorter than 32 characters`);
  return token;
}
