import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { errorJson } from './errors.ts';

/** 400 whose message names the first bad field; details list every {field, message}. */
export function invalidRequest(c: Context, error: ZodError): Response {
  const details = error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
  const first = details[0];
  return errorJson(c, 400, 'invalid_request', first ? `${first.field}: ${first.message}` : 'invalid request', details);
}
