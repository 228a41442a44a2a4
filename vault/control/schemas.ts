import { z } from 'zod';
import { validateHostPattern } from '../hosts.ts';

const hostPattern = z.string().superRefine((pattern, ctx) => {
  const problem = validateHostPattern(pattern);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

// A value is inserted into header lines and query strings: control characters would let it split them.
const secretValue = z
  .string()
  .min(1)
  .max(16 * 1024)
  .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters (CR, LF, NUL, ...)');

export const CredentialInputSchema = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, 'must be 1-128 letters, digits, _ . -, not starting with a digit'),
  value: secretValue,
  stub: z
    .string()
    .regex(/^[A-Za-z0-9_-]{22,512}$/, 'must be 22-512 URL-safe characters (A-Z a-z 0-9 _ -)')
    .optional(),
  hosts: z.array(hostPattern).min(1, 'a credential needs at least one host it may be sent to'),
  places: z.array(z.enum(['header', 'query', 'body'])).min(1).default(['header']),
});

export const CredentialsBodySchema = z.object({ credentials: z.array(CredentialInputSchema).max(256) });

export const EgressPolicySchema = z.object({
  default: z.enum(['allow', 'deny']).default('allow'),
  allow: z.array(hostPattern).max(1024).default([]),
  deny: z.array(hostPattern).max(1024).default([]),
  allowPrivate: z.array(hostPattern).max(1024).default([]),
});

export type CredentialInput = z.infer<typeof CredentialInputSchema>;
