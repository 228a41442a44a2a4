// sandbox.json: written as each resource comes into being, so that a create that dies part-way, a
// destroy after a restart, and reapExcept all know what to remove. Holds no secret.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ProcessRef } from './proc.ts';

export interface SandboxRecord {
  id: string;
  netns: string;
  createdAt: string;
  hostInterface?: string;
  hostAddress?: string;
  sandboxAddress?: string;
  agentPort?: number;
  vaultControlPort?: number;
  /** The unshare process on the host that holds the sandbox's PID namespace. */
  launcher?: ProcessRef;
  agent?: ProcessRef;
  vault?: ProcessRef;
}

export function writeRecord(path: string, record: SandboxRecord): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** The record, or undefined when it is missing or unreadable (a create that died very early). */
export function readRecord(path: string): Partial<SandboxRecord> | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Partial<SandboxRecord>) : undefined;
  } catch {
    return undefined;
  }
}
