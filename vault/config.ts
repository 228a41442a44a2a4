import { readFileSync, rmSync } from 'node:fs';
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

/** The vault's start-up configuration, one JSON file per sandbox, written by whoever starts it. */
export const VaultConfigSchema = z.object({
  session: z.string().min(1).max(128),
  listen: z.object({
    address: z.ipv4(),
    tlsPort: port,
    httpPort: port,
    dnsPort: port,
  }),
  /** Interception connections are accepted only from this address (the sandbox's end of the veth). */
  sandboxAddress: z.ipv4().optional(),
  /** The control API: host loopback port or unix socket, never the interception address. */
  control: z.union([
    z.object({ host: z.string().default('127.0.0.1'), port }),
    z.object({ socket: z.string().min(1) }),
  ]),
  /** File holding the control token; removed once read so nothing else on the host finds it. */
  tokenFile: z.string().min(1),
  /** What the DNS listener answers for allowed names; routing is by name, so any vault address works. */
  syntheticAddress: z.ipv4(),
  upstream: z
    .object({
      extraCaFiles: z.array(z.string()).default([]),
      /** Explicit name → 'ip' or 'ip:port' map; names in it are never looked up in DNS. */
      hosts: z.record(z.string(), z.string()).default({}),
    })
    .default({ extraCaFiles: [], hosts: {} }),
  limits: z
    .object({
      maxConnections: z.number().int().positive().default(1024),
      maxHeaderBytes: z.number().int().positive().default(32 * 1024),
      idleTimeoutMs: z.number().int().positive().default(120_000),
      headersTimeoutMs: z.number().int().positive().default(15_000),
      /** How long an upstream may take to send its response headers before the request fails with 502. */
      upstreamHeadersTimeoutMs: z.number().int().positive().default(60_000),
    })
    .default({ maxConnections: 1024, maxHeaderBytes: 32 * 1024, idleTimeoutMs: 120_000, headersTimeoutMs: 15_000, upstreamHeadersTimeoutMs: 60_000 }),
});

export type VaultConfig = z.infer<typeof VaultConfigSchema>;
export type VaultLimits = VaultConfig['limits'];

export function loadVaultConfig(path: string): VaultConfig {
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const parsed = VaultConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid vault config ${path}: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** Reads the control token and deletes the file: the token then lives only in this process. */
export function takeToken(path: string): string {
  const token = readFileSync(path, 'utf8').trim();
  rmSync(path, { force: true });
  if (token.length < 32) throw new Error(`control token in ${path} is shorter than 32 characters`);
  return token;
}
