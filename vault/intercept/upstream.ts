import type { LookupAddress, LookupOptions } from 'node:dns';
import requestApi from 'undici/lib/api/index.js';
import Agent from 'undici/lib/dispatcher/agent.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import type { VaultLimits } from '../config.ts';
import type { VaultState } from '../state.ts';

// What undici's package entry does: request() and friends live on every dispatcher.
Object.assign(Dispatcher.prototype, requestApi);

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * One keep-alive pool per origin, HTTP/2 where the upstream offers it (unless `http2` is false). Every new connection looks its
 * host up through the vault's own resolver, which applies the SSRF guard, so the socket dials exactly
 * the address that was checked — never a second, unchecked DNS answer.
 */
export function createUpstreamAgent(state: VaultState, limits: VaultLimits, http2: boolean): Agent {
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
    connect: { secureContext: state.upstreamTls, lookup, timeout: 10_000 },
  });
}
