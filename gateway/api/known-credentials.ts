// Credentials whose hosts everyone knows: given without hosts, they are scoped to these. Any other
// name needs explicit hosts (a credential with no hosts is refused: DESIGN.md §3.5).

export type KnownCredentialHosts =
  | { readonly hosts: readonly string[] }
  /** The host of the URL in this environment variable of the same agent or session. */
  | { readonly hostOfEnvVar: string };

export const KNOWN_CREDENTIAL_HOSTS: Readonly<Record<string, KnownCredentialHosts>> = Object.freeze({
  // git over HTTPS (github.com), the REST and GraphQL API (api.github.com), uploads and codeload.
  GITHUB_TOKEN: { hosts: ['github.com', '*.github.com'] },
  ANTHROPIC_API_KEY: { hosts: ['api.anthropic.com'] },
  OPENAI_API_KEY: { hosts: ['api.openai.com'] },
  LITELLM_API_KEY: { hostOfEnvVar: 'LITELLM_API_BASE' },
});

/**
 * The default hosts of a credential name, or undefined when there are none: an unknown name, or
 * LITELLM_API_KEY without a usable LITELLM_API_BASE in `envVars`.
 */
export function defaultHostsFor(name: string, envVars: Readonly<Record<string, string>>): string[] | undefined {
  const known = Object.hasOwn(KNOWN_CREDENTIAL_HOSTS, name) ? KNOWN_CREDENTIAL_HOSTS[name] : undefined;
  if (!known) return undefined;
  if ('hosts' in known) return [...known.hosts];
  const base = envVars[known.hostOfEnvVar];
  const host = base === undefined ? undefined : hostOfUrl(base);
  return host === undefined ? undefined : [host];
}

/** Why defaultHostsFor found nothing, for the 400 that asks for explicit hosts. */
export function missingHostsReason(name: string): string {
  const known = Object.hasOwn(KNOWN_CREDENTIAL_HOSTS, name) ? KNOWN_CREDENTIAL_HOSTS[name] : undefined;
  if (known && 'hostOfEnvVar' in known) {
    return `give hosts, or set env_vars.${known.hostOfEnvVar} to an http(s) URL to take ${name}'s host from`;
  }
  const names = Object.keys(KNOWN_CREDENTIAL_HOSTS).join(', ');
  return `give the hosts ${name} may be sent to (only ${names} have defaults)`;
}

function hostOfUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return url.hostname.startsWith('[') || url.hostname === '' ? undefined : url.hostname;
  } catch {
    return undefined;
  }
}
