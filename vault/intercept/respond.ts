import type { OutgoingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import { planBodyDecoding } from '../decode.ts';
import { scrubberFor } from '../scrub.ts';
import type { Credential } from '../types.ts';
import { endToEndHeaders, mapHeaderValues } from './headers.ts';

export type PreparedResponse =
  | {
      headers: OutgoingHttpHeaders;
      transforms: Transform[];
      /** The same scrubbing for a body held whole, or null when the body must be decoded first. */
      scrubWhole: ((body: Buffer) => Buffer) | null;
    }
  | { refusal: string };

const untouched = (body: Buffer) => body;

/**
 * Decides how an upstream response reaches the sandbox: headers scrubbed of every real value, and the
 * body decoded (so it can be scrubbed) and scrubbed as it streams. With no credentials in the vault
 * there is nothing to hide and the body passes untouched, compressed or not.
 */
export function prepareResponse(credentials: readonly Credential[], upstreamHeaders: Record<string, string | string[] | undefined>): PreparedResponse {
  const headers = endToEndHeaders(upstreamHeaders);
  if (credentials.length === 0) return { headers, transforms: [], scrubWhole: untouched };

  const scrubber = scrubberFor(credentials);
  const decoding = planBodyDecoding(firstValue(headers['content-encoding']));
  if (decoding.kind === 'unsupported') {
    return { refusal: `upstream sent Content-Encoding ${decoding.encoding}, which the vault cannot decode to scrub` };
  }
  const transforms: Transform[] = [];
  const scrubWhole = decoding.kind === 'identity' ? scrubber.bytes : null;
  if (decoding.kind === 'decode') {
    transforms.push(decoding.createDecoder());
    delete headers['content-encoding'];
  }
  // Encoded forms of a value and its stub can differ in length (%XX, JSON escapes), so the body's
  // length is only known once it has streamed: send it chunked.
  delete headers['content-length'];
  transforms.push(scrubber.stream());
  return { headers: mapHeaderValues(headers, scrubber.text), transforms, scrubWhole };
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
