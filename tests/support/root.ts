// Suites that need root and Linux namespaces skip loudly elsewhere; CI runs as root and runs them.
export const isRoot = process.getuid?.() === 0;

export function warnIfSkipped(suite: string): void {
  if (!isRoot) console.warn(`SKIPPED ${suite}: needs root for network namespaces and iptables (CI runs it as root)`);
}
