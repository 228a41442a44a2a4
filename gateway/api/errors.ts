// The one error shape of the REST API (DESIGN.md §5): {"error":{"code","message","details"}}.
import { z } from 'zod';

export type ApiErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 422 | 426 | 429 | 503;
/** 405 and 500 are answered by the framework (unknown method, a bug), never thrown by a route. */
export type ErrorResponseStatus = ApiErrorStatus | 405 | 500;

/** One problem with a request: the dotted path to the field (`credentials.0.hosts`) and what is wrong. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** A refusal a route answers with exactly this status, code, message and details. */
export class ApiError extends Error {
  readonly status: ApiErrorStatus;
  readonly code: string;
  readonly details: unknown;
  /** Extra response headers, e.g. WWW-Authenticate on a 401. */
  readonly headers: Record<string, string>;

  constructor(status: ApiErrorStatus, code: string, message: string, details?: unknown, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details ?? [];
    this.headers = headers;
  }
}

export function errorResponse(
  status: ErrorResponseStatus,
  code: string,
  message: string,
  details?: unknown,
  headers: Record<string, string> = {},
): Response {
  const body = JSON.stringify({ error: { code, message, details: details ?? [] } });
  return new Response(body, { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}

export function apiErrorResponse(error: ApiError): Response {
  return errorResponse(error.status, error.code, error.message, error.details, error.headers);
}

/** 400 naming the first field in the message and every problem in details. */
export function invalidRequest(issues: FieldIssue[]): ApiError {
  const [first] = issues;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  const message = first ? `invalid ${first.field}: ${first.message}${more}` : 'invalid request';
  return new ApiError(400, 'invalid_request', message, issues);
}

export function notFound(what: string, id: string): ApiError {
  return new ApiError(404, 'not_found', `no ${what} ${JSON.stringify(id)}`);
}

/** The documented error body: one component in the OpenAPI document. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code, e.g. invalid_request, not_found, conflict'),
      message: z.string().describe('What went wrong, naming the field when a field is at fault'),
      details: z.unknown().describe('For invalid_request: every problem as [{field, message}]'),
    }),
  })
  .meta({ id: 'Error', description: 'Every 4xx (and the 5xx that would be a bug) has this body' });
