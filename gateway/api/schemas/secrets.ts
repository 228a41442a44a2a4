// Secrets on the wire: write-only, so no schema here has a field for the value except the PUT body.
import { z } from 'zod';
import type { SecretRecord } from '../../store/types.ts';
import { listOf, timestampSchema } from './common.ts';

export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const MAX_SECRET_BYTES = 64 * 1024;

export const secretNameSchema = z
  .string()
  .regex(SECRET_NAME, 'must be 1-128 letters, digits and _, not starting with a digit')
  .meta({ description: 'Secret name: ^[A-Za-z_][A-Za-z0-9_]{0,127}$', examples: ['GITHUB_TOKEN'] });

export const secretNameParams = z.object({ name: secretNameSchema });

export const putSecretBody = z.strictObject({
  value: z
    .string()
    .min(1)
    .refine((value) => Buffer.byteLength(value) <= MAX_SECRET_BYTES, `must be at most ${MAX_SECRET_BYTES} bytes (UTF-8)`)
    .meta({ description: `The secret value, at most ${MAX_SECRET_BYTES} bytes. Stored encrypted; never returned.` }),
});

export const secretSchema = z
  .object({ id: z.string().meta({ examples: ['sec_0123456789abcdef'] }), name: z.string(), created_at: timestampSchema, updated_at: timestampSchema })
  .meta({ id: 'Secret', description: 'A secret without its value: values are write-only' });

export const secretListSchema = listOf(secretSchema, 'SecretList');

export function secretView(record: SecretRecord): z.output<typeof secretSchema> {
  return { id: record.id, name: record.name, created_at: record.createdAt, updated_at: record.updatedAt };
}
