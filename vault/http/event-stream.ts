import { Readable } from 'node:stream';
import { type Reply } from './reply.ts';

/** A log that replays what it holds after a sequence number and tells subscribers of new entries. */
export interface SequencedLog<T extends { seq: number }> {
  since(after: number): T[];
  subscribe(listener: (entry: T) => void): () => void;
}

/**
 * Server-sent events: what `log` holds after `after`, then every new entry, until the client leaves.
 * Each event's id is its seq, so a reconnecting client resumes with Last-Event-ID. Entries are written
 * as fast as the client reads (the queue holds the rest).
 */
export function eventStreamReply<T extends { seq: number }>(log: SequencedLog<T>, after: number, eventName: (entry: T) => string): Reply {
  const queue = log.since(after);
  let wanted = false;
  const stream = new Readable({
    read() {
      wanted = true;
      drain();
    },
    destroy(err, callback) {
      unsubscribe();
      callback(err);
    },
  });
  const drain = () => {
    while (wanted && queue.length > 0) {
      const entry = queue.shift() as T;
      wanted = stream.push(`event: ${eventName(entry)}\ndata: ${JSON.stringify(entry)}\nid: ${entry.seq}\n\n`);
    }
  };
  const unsubscribe = log.subscribe((entry) => {
    queue.push(entry);
    drain();
  });
  return { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, body: stream };
}

/** `?after=` or Last-Event-ID as a sequence number; anything else is 0 (from the start). */
export function afterSeq(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}
