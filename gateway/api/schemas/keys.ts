// API keys on the wire. The token itself appears once, in the answer to its creation.
import { z } from 'zod';
import type { ApiKeyRecord } from '../../store/types.ts';
import { listOf, timestampSchema } from './common.ts';

export const createApiKeyBody = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters')
    .meta({ description: 'What the key is for, e.g. "ci" or "alice laptop"' }),
  admin: z.boolean().default(false).meta({ description: 'Admin keys manage API keys' }),
});

export const apiKeySchema = z
  .object({
    id: z.string().meta({ examples: ['key_0123456789abcdef'] }),
    name: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the key after "lap_", to tell keys apart' }),
    admin: z.boolean(),
    created_at: timestampSchema,
    revoked_at: timestampSchema.nullable(),
    last_used_at: timestampSchema.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const createdApiKeySchema = apiKeySchema
  .extend({ key: z.string().meta({ description: 'The bearer token: shown only in this answer, stored hashed' }) })
  .meta({ id: 'CreatedApiKey' });

export const apiKeyListSchema = listOf(apiKeySchema, 'ApiKeyList');

export const apiKeyIdParams = z.object({ id: z.string().min(1).max(128).meta({ description: 'The key id (key_...)' }) });

export function apiKeyView(record: ApiKeyRecord): z.output<typeof apiKeySchema> {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    admin: record.admin,
    created_at: record.createdAt,
    revoked_at: record.revokedAt,
    last_used_at: record.lastUsedAt,
  };
}
