// Turning a raw request into validated input: content type, size limit, JSON, zod. Every refusal is an
// ApiError naming what is wrong; nothing here throws anything else.
import type { z } from 'zod';
import { ApiError, type FieldIssue, invalidRequest } from './errors.ts';

/** Bodies above this are refused with 413 unless a route sets its own limit. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * JSON media types, plus form-urlencoded and no content type at all: `curl -d '{...}'` sends
 * application/x-www-form-urlencoded, and the reference platform documents calls made that way.
 */
export function checkJsonContentType(header: string | undefined): void {
  if (header === undefined || header.trim() === '') return;
  const [mediaType = '', ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  const json = mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
  if (!json && mediaType !== 'application/x-www-form-urlencoded') {
    throw new ApiError(415, 'unsupported_media_type', `content-type ${JSON.stringify(mediaType)} is not accepted: send application/json`);
  }
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ApiError(415, 'unsupported_media_type', `charset ${JSON.stringify(charset)} is not accepted: send UTF-8`);
  }
}

/** The rest of the body is never read, so the connection cannot carry another request: close it. */
function tooLarge(limit: number): ApiError {
  return new ApiError(413, 'payload_too_large', `the request body is larger than ${limit} bytes`, [], { connection: 'close' });
}

/** Reads at most `limit` bytes; stops reading (and refuses) as soon as the body is known to be larger. */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw tooLarge(limit);
  if (!request.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new ApiError(400, 'invalid_json', 'the request body is not valid UTF-8');
  }
}

/**
 * An empty body counts as `{}`, so `curl -X POST` works for routes whose fields are all optional.
 * A `__proto__` key is refused: zod would drop it silently, and nothing legitimate is called that.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  let prototypeKey = false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (key, value) => {
      if (key === '__proto__') prototypeKey = true;
      return value;
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(400, 'invalid_json', `the request body is not valid JSON: ${reason}`);
  }
  if (prototypeKey) throw invalidRequest([{ field: '__proto__', message: 'is not allowed as a field or key name' }]);
  return parsed;
}

/** zod's issues as [{field, message}]: `credentials.0.hosts` for a body field, a parameter's own name. */
export function fieldIssues(issues: readonly z.core.$ZodIssue[], where: 'body' | 'path' | 'query'): FieldIssue[] {
  return issues.flatMap((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...path, key].join('.'), message: where === 'query' ? 'unknown query parameter' : 'unknown field' }));
    }
    return [{ field: path.length === 0 ? where : path.join('.'), message: issue.message }];
  });
}
