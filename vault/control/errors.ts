import type { Issue } from '../validate.ts';

/** The error shape every LAP API uses (DESIGN.md §5). */
export function errorBody(code: string, message: string, details: unknown[] = []) {
  return { error: { code, message, details } };
}

export function validationError(issues: readonly Issue[]) {
  const first = issues[0];
  const message = first ? `${first.field || 'body'}: ${first.message}` : 'invalid request';
  return errorBody('invalid_request', message, [...issues]);
}
