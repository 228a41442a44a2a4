import type { ZodError } from 'zod';

/** The error shape every LAP API uses (DESIGN.md §5). */
export function errorBody(code: string, message: string, details: unknown[] = []) {
  return { error: { code, message, details } };
}

export function validationError(error: ZodError) {
  const details = error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
  const first = details[0];
  const message = first ? `${first.field || 'body'}: ${first.message}` : 'invalid request';
  return errorBody('invalid_request', message, details);
}
