import { HttpError } from '../../vault/http/reply.ts';

export interface FieldProblem {
  field: string;
  message: string;
}

/** Why a claim was refused or failed; the route answers with exactly this status, code and message. */
export class ClaimError extends HttpError {
  constructor(status: number, code: string, message: string, details: FieldProblem[] = []) {
    super(status, code, message, details);
  }

  static invalid(problems: FieldProblem[]): ClaimError {
    const first = problems[0] ?? { field: 'body', message: 'invalid claim' };
    return new ClaimError(400, 'invalid_request', `${first.field}: ${first.message}`, problems);
  }
}
