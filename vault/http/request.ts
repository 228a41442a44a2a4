import type { IncomingMessage } from 'node:http';
import { HttpError } from './reply.ts';

/** The parts of a node:http request the routes read: path, query, headers and a bounded body. */
export class HttpRequest {
  readonly raw: IncomingMessage;
  readonly method: string;
  /** The path as sent, without the query. */
  readonly path: string;
  readonly #query: URLSearchParams;

  constructor(raw: IncomingMessage) {
    this.raw = raw;
    this.method = raw.method ?? 'GET';
    const url = raw.url ?? '/';
    const mark = url.indexOf('?');
    this.path = mark === -1 ? url : url.slice(0, mark);
    this.#query = new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1));
  }

  /** The first value of a query parameter, decoded. */
  query(name: string): string | undefined {
    return this.#query.get(name) ?? undefined;
  }

  header(name: string): string | undefined {
    const value = this.raw.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /**
   * The whole body as UTF-8 text. Past `maxBytes` (announced or sent) it throws a 413 with
   * `tooLargeMessage` and stops reading: the router then drops the rest of the body (see discardRest).
   */
  text(maxBytes: number, tooLargeMessage: string): Promise<string> {
    const tooLarge = () => new HttpError(413, 'too_large', tooLargeMessage);
    if (Number(this.raw.headers['content-length']) > maxBytes) return Promise.reject(tooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (err: Error | null) => {
        this.raw.off('data', onData).off('end', onEnd).off('error', finish);
        if (err) reject(err);
        else resolve(Buffer.concat(chunks, size).toString('utf8'));
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          this.raw.pause();
          return finish(tooLarge());
        }
        chunks.push(chunk);
      };
      const onEnd = () => finish(null);
      // A client that goes away mid-body ends the read with an 'aborted' error (tests/vault/http.test.ts).
      this.raw.on('data', onData).on('end', onEnd).on('error', finish);
    });
  }

  /** The body parsed as JSON, or a 400 `invalid_json` with `messages.invalid`. */
  async json(maxBytes: number, messages: { tooLarge: string; invalid: string }): Promise<unknown> {
    const text = await this.text(maxBytes, messages.tooLarge);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpError(400, 'invalid_json', messages.invalid);
    }
  }
}
