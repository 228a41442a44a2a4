// A command for a sandbox that makes `count` vault audit events quickly: TRACE requests, which the
// vault refuses (and records) before it dials anything, each on a connection of its own.
export function vaultRefusals(count: number): string[] {
  const trace = "exec 3<>/dev/tcp/api.github.com/80 || exit 1; printf 'TRACE / HTTP/1.1\\r\\nHost: api.github.com\\r\\n\\r\\n' >&3; exec 3>&-";
  return ['bash', '-c', `for i in $(seq ${count}); do ${trace}; done`];
}
