import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError } from '../errors.ts';

export interface FieldProblem {
  field: string;
  message: string;
}

/** Why a claim was refused or failed; the route answers with exactly this status, code and message. */
export class ClaimError extends ApiError {
  constructor(status: ContentfulStatusCode, code: string, message: string, details: FieldProblem[] = []) {
    super(status, code, message, details);
  }

  static invalid(problems: FieldProblem[]): ClaimError {
    const first = problems[0] ?? { field: 'body', message: 'invalid claim' };
    return new ClaimError(400, 'invalid_request', `${first.field}: ${first.message}`, problems);
  }
}
