// Brings up what the bench measures: the HTTPS upstream, then the real vault in front of it with one
// credential, the floor proxy beside it, and the three ways of reaching the upstream that the load
// client compares.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ask, type ChildGroup } from './children.ts';
import type { FloorSetup } from './floor-proxy.ts';
import type { Target } from './load.ts';
import type { UpstreamReply, UpstreamSetup } from './upstream.ts';
import { type BenchVault, configureVault, startVaultProcess } from './vault-process.ts';

export const DOMAIN = 'bench.test';
/** The name every warm-cache measurement uses. */
export const WARM_HOST = `api.${DOMAIN}`;
/**
 * One per new connection in the cold-cache measurement, each mapped in the vault's config. That phase
 * stops when they run out (load.ts bounds its loops by the names); at 25-200 connections/s it uses
 * ~125-1 000 in its 5 s, and a faster run just ends early with the same rate. No more than that: the
 * idle vault is meant to hold a sandbox's realistic config, and 10 000 names cost it ~11 MiB. From
 * ~1 700 names on, V8 even optimizes the config-parsing loop, which pages ~5.5 MiB of its compiler in.
 */
export const COLD_NAMES: readonly string[] = Array.from({ length: 1_000 }, (_, i) => `h${i}.${DOMAIN}`);

export interface Paths {
  /** To the upstream's port, trusting its CA, with the real credential. */
  direct: Target;
  /** To the vault's TLS port, trusting the vault's CA, with the stub. */
  vault: Target;
  /** To the floor proxy (floor-proxy.ts), trusting its CA, with the real credential: it swaps nothing. */
  floor: Target;
}

const UPSTREAM_SCRIPT = fileURLToPath(new URL('./upstream.ts', import.meta.url));
const FLOOR_SCRIPT = fileURLToPath(new URL('./floor-proxy.ts', import.meta.url));
const UPSTREAM_START_MS = 30_000;

/** A GitHub-style token: 40 characters with the `ghp_` prefix the vault keeps in the stub. */
function realisticToken(): string {
  return `ghp_${randomBytes(48).toString('base64url').replace(/[-_]/g, '').slice(0, 36)}`;
}

export interface BenchTargets {
  vault: BenchVault;
  upstreamPid: number;
  floorPid: number;
  paths: Paths;
}

export async function startBenchTargets(group: ChildGroup, dir: string, vaultNodeFlags: string[], upstreamHttp2 = true): Promise<BenchTargets> {
  const realValue = realisticToken();
  const setup: UpstreamSetup = { domain: DOMAIN, expectedAuthorization: `Bearer ${realValue}` };
  const upstreamProcess = group.fork(UPSTREAM_SCRIPT);
  const reply = await ask<Extract<UpstreamReply, { ready: unknown }>>(upstreamProcess, setup, UPSTREAM_START_MS, 'upstream');
  const upstream = reply.ready;
  const upstreamCaFile = join(dir, 'upstream-ca.pem');
  writeFileSync(upstreamCaFile, upstream.caPem);

  const upstreamAddress = `127.0.0.1:${upstream.port}`;
  const hosts = Object.fromEntries([WARM_HOST, ...COLD_NAMES].map((name) => [name, upstreamAddress]));
  const vault = await startVaultProcess(group, { dir, upstreamCaFile, hosts, nodeFlags: vaultNodeFlags, upstreamHttp2 });
  const credential = { name: 'BENCH_TOKEN', value: realValue, hosts: [`*.${DOMAIN}`] };
  const { stub, caPem } = await configureVault(vault, credential, [`*.${DOMAIN}`]);
  const floorProcess = group.fork(FLOOR_SCRIPT);
  const floorSetup: FloorSetup = { domain: DOMAIN, upstreamPort: upstream.port, upstreamCaPem: upstream.caPem, http2: upstreamHttp2 };
  const floor = (await ask<{ ready: { port: number; caPem: string } }>(floorProcess, floorSetup, UPSTREAM_START_MS, 'floor proxy')).ready;
  return {
    vault,
    upstreamPid: upstreamProcess.pid ?? 0,
    floorPid: floorProcess.pid ?? 0,
    paths: {
      direct: { port: upstream.port, caPem: upstream.caPem, authorization: `Bearer ${realValue}` },
      vault: { port: vault.ports.tls, caPem, authorization: `Bearer ${stub}` },
      floor: { port: floor.port, caPem: floor.caPem, authorization: `Bearer ${realValue}` },
    },
  };
}
