// Plain environment variables of an agent or a session (DESIGN.md §5): names, limits, reserved names.
import { z } from 'zod';

export const ENV_VAR_LIMITS = { maxKeys: 50, maxBytes: 16 * 1024, maxNameLength: 128 } as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Names the sandbox sets itself. The CA variables point every client at the vault's CA and the proxy
 * variables would route around the transparent interception; the rest are the agent's (DESIGN.md §3.3).
 * Compared case-insensitively: curl reads http_proxy, zsh ties `path` to PATH.
 */
export const RESERVED_ENV_NAMES: readonly string[] = [
  'HOME', 'PATH', 'TERM', 'PWD', 'USER', 'SHELL', 'LANG',
  'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'GIT_SSL_CAINFO', 'CODEX_CA_CERTIFICATE',
  'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'FTP_PROXY', 'WS_PROXY', 'WSS_PROXY', 'GRPC_PROXY', 'NODE_USE_ENV_PROXY',
];
export const RESERVED_ENV_PREFIX = 'LAP_';

const reserved = new Set(RESERVED_ENV_NAMES);

/** null when `name` may be set by a user, otherwise what is wrong with it. */
export function envNameProblem(name: string): string | null {
  if (!ENV_NAME.test(name)) return `${JSON.stringify(name)} is not a variable name: names match ^[A-Za-z_][A-Za-z0-9_]*$`;
  if (name.length > ENV_VAR_LIMITS.maxNameLength) return `is longer than ${ENV_VAR_LIMITS.maxNameLength} characters`;
  const upper = name.toUpperCase();
  if (reserved.has(upper)) return `${name} is reserved: the sandbox sets it`;
  if (upper.startsWith(RESERVED_ENV_PREFIX)) return `${name} is reserved: names starting with ${RESERVED_ENV_PREFIX} are LAP's own`;
  return null;
}

/** A variable name a user may set (also the name of a credential, which the sandbox sees as a variable). */
export const envNameSchema = z.string().superRefine((name, ctx) => {
  const problem = envNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const envVarsSchema = z
  .record(z.string(), z.string())
  .superRefine((env, ctx) => {
    const names = Object.keys(env);
    for (const name of names) {
      const problem = envNameProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [name] });
      else if (env[name]?.includes('\0')) ctx.addIssue({ code: 'custom', message: 'must not contain NUL', path: [name] });
    }
    if (names.length > ENV_VAR_LIMITS.maxKeys) {
      ctx.addIssue({ code: 'custom', message: `at most ${ENV_VAR_LIMITS.maxKeys} variables, got ${names.length}` });
    }
    const bytes = names.reduce((sum, name) => sum + Buffer.byteLength(name) + Buffer.byteLength(env[name] ?? ''), 0);
    if (bytes > ENV_VAR_LIMITS.maxBytes) {
      ctx.addIssue({ code: 'custom', message: `at most ${ENV_VAR_LIMITS.maxBytes} bytes of names and values, got ${bytes}` });
    }
  })
  .meta({
    description:
      `Environment variables: names match ^[A-Za-z_][A-Za-z0-9_]*$, at most ${ENV_VAR_LIMITS.maxKeys} of them and ` +
      `${ENV_VAR_LIMITS.maxBytes} bytes of names and values; reserved: ${RESERVED_ENV_NAMES.join(', ')} and ${RESERVED_ENV_PREFIX}*`,
  });
