// Small schemas several resources share.
import { z } from 'zod';
import { validateHostPattern } from '../../../vault/hosts.ts';

/** A lowercase DNS name or `*.suffix`, without a port: what the vault and the agent both accept. */
const HOST_PATTERN = /^(\*\.)?[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$/;

export const hostPatternSchema = z
  .string()
  .max(253)
  .superRefine((pattern, ctx) => {
    if (!HOST_PATTERN.test(pattern)) {
      ctx.addIssue({ code: 'custom', message: `host pattern ${JSON.stringify(pattern)} must be a lowercase host name or *.suffix, without a port` });
      return;
    }
    const problem = validateHostPattern(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ description: 'A lowercase host name (api.github.com) or *.suffix (*.github.com: subdomains only)', examples: ['api.github.com'] });

export const timestampSchema = z.string().meta({ description: 'ISO 8601', examples: ['2026-01-01T00:00:00.000Z'] });

/** Every list answers {"data": [...]}. */
export function listOf<T extends z.ZodType>(item: T, id: string) {
  return z.object({ data: z.array(item) }).meta({ id });
}
