import type { LookupAddress, LookupOptions } from 'node:dns';
import type { Agent } from 'undici';
import type { VaultLimits } from '../config.ts';
import type { VaultState } from '../state.ts';

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

export interface Upstream {
  /** The dispatcher every request goes through, made at the first request. */
  dispatcher(): Promise<Agent>;
  close(): Promise<void>;
}

/**
 * The vault's way out. undici and the upstream trust store load at the first request, not at start:
 * a sandbox that has not used the network yet keeps its vault ~2 MiB smaller (docs/benchmarks.md).
 */
export function createUpstream(state: VaultState, limits: VaultLimits, http2: boolean): Upstream {
  let agent: Promise<Agent> | undefined;
  return {
    dispatcher: () => (agent ??= createUpstreamAgent(state, limits, http2)),
    close: async () => {
      if (agent) await (await agent).destroy();
    },
  };
}

/**
 * One keep-alive pool per origin, HTTP/2 where the upstream offers it (unless `http2` is false). Every new connection looks its
 * host up through the vault's own resolver, which applies the SSRF guard, so the socket dials exactly
 * the address that was checked — never a second, unchecked DNS answer.
 */
async function createUpstreamAgent(state: VaultState, limits: VaultLimits, http2: boolean): Promise<Agent> {
  const [{ default: Agent }, { default: Dispatcher }, { default: requestApi }] = await Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/dispatcher/dispatcher.js'),
    import('undici/lib/api/index.js'),
  ]);
  // What undici's package entry does: request() and friends live on every dispatcher.
  Object.assign(Dispatcher.prototype, requestApi);
  const lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    state.resolve(hostname, 443, state.policy).then(
      (target) =>
        options.all
          ? callback(null, [{ address: target.address, family: target.family }])
          : callback(null, target.address, target.family),
      (err: Error) => callback(err, ''),
    );
  };
  return new Agent({
    allowH2: http2,
    keepAliveTimeout: 30_000,
    connections: 64,
    headersTimeout: limits.upstreamHeadersTimeoutMs,
    bodyTimeout: 300_000,
    // One shared context: building the ~150 system roots into a store per connection costs ms and MiB.
    connect: { secureContext: state.upstreamTls(), lookup, timeout: 10_000 },
  });
}
