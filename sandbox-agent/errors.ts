import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The error shape every LAP API uses (DESIGN.md §5): {"error":{"code","message","details"}}. */
export function errorJson(c: Context, status: ContentfulStatusCode, code: string, message: string, details: unknown[] = []) {
  return c.json({ error: { code, message, details } }, status);
}

/** A refusal a route answers with exactly this status, code, message and details. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly details: unknown[];

  constructor(status: ContentfulStatusCode, code: string, message: string, details: unknown[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}
