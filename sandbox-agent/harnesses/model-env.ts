// Where a harness's model traffic goes (DESIGN.md §6): to a LiteLLM gateway when the claim names one
// (LITELLM_API_BASE, its key LITELLM_API_KEY a vaulted credential scoped to that host), else straight
// to the provider's default host, which the vault intercepts like any other. Only what the claim does
// not set itself is filled in: an explicit ANTHROPIC_BASE_URL or OPENAI_API_KEY on the agent wins.

type Env = Readonly<Record<string, string>>;

/** ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY from LiteLLM's, when a LiteLLM gateway is named. */
export function anthropicModelEnv(env: Env): Record<string, string> {
  const base = litellmBase(env);
  if (base === undefined) return {};
  return { ANTHROPIC_BASE_URL: base, ...litellmKey(env, 'ANTHROPIC_API_KEY') };
}

/** OPENAI_BASE_URL (LiteLLM's OpenAI-compatible /v1) and OPENAI_API_KEY, when a LiteLLM gateway is named. */
export function openaiModelEnv(env: Env): Record<string, string> {
  const base = litellmBase(env);
  if (base === undefined) return {};
  return { OPENAI_BASE_URL: base.endsWith('/v1') ? base : `${base}/v1`, ...litellmKey(env, 'OPENAI_API_KEY') };
}

/** The OpenAI base URL a program should use: the claim's, LiteLLM's, or OpenAI's own. */
export function openaiBaseUrl(env: Env): string {
  return env.OPENAI_BASE_URL || openaiModelEnv(env).OPENAI_BASE_URL || 'https://api.openai.com/v1';
}

function litellmBase(env: Env): string | undefined {
  const base = env.LITELLM_API_BASE?.trim();
  return base ? base.replace(/\/+$/, '') : undefined;
}

function litellmKey(env: Env, name: string): Record<string, string> {
  const key = env.LITELLM_API_KEY;
  return key ? { [name]: key } : {};
}
