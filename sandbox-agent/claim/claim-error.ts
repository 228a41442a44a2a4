import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface FieldProblem {
  field: string;
  message: string;
}

/** Why a claim was refused or failed; the route answers with exactly this status, code and message. */
export class ClaimError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly details: FieldProblem[];

  constructor(status: ContentfulStatusCode, code: string, message: string, details: FieldProblem[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  static invalid(problems: FieldProblem[]): ClaimError {
    const first = problems[0] ?? { field: 'body', message: 'invalid claim' };
    return new ClaimError(400, 'invalid_request', `${first.field}: ${first.message}`, problems);
  }
}
