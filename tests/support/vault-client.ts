// Talks to a vault's control API the way the gateway will: bearer token, JSON.
import type { AuditEvent, Credential, EgressPolicy } from '../../vault/types.ts';

export interface VaultControl {
  controlUrl: string;
  controlToken: string;
}

export async function controlRequest(vault: VaultControl, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${vault.controlUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${vault.controlToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function setCredentials(vault: VaultControl, credentials: Partial<Credential>[]): Promise<Credential[]> {
  const res = await controlRequest(vault, 'PUT', '/v1/credentials', { credentials });
  if (!res.ok) throw new Error(`PUT /v1/credentials: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { credentials: Credential[] }).credentials;
}

export async function setPolicy(vault: VaultControl, policy: Partial<EgressPolicy>): Promise<void> {
  const res = await controlRequest(vault, 'PUT', '/v1/policy', policy);
  if (!res.ok) throw new Error(`PUT /v1/policy: ${res.status} ${await res.text()}`);
}

export async function auditEvents(vault: VaultControl): Promise<AuditEvent[]> {
  const res = await controlRequest(vault, 'GET', '/v1/audit');
  return ((await res.json()) as { events: AuditEvent[] }).events;
}

/** Waits until the audit has an event matching `match` (events are recorded when a response ends). */
export async function waitForAudit(vault: VaultControl, match: (e: AuditEvent) => boolean, timeoutMs = 5000): Promise<AuditEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await auditEvents(vault)).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error('no matching audit event');
    await new Promise((r) => setTimeout(r, 50));
  }
}
