// Short-lived single-use tickets for the TTY WebSocket: browsers cannot set an Authorization header
// on a WebSocket, so they fetch a ticket with their key and put it in the URL. In memory only.
import { randomBytes } from 'node:crypto';
import type { ApiKeyRecord } from '../store/types.ts';

export const TICKET_TTL_MS = 30_000;

interface Ticket {
  sessionId: string;
  key: ApiKeyRecord;
  expires: number;
}

export class TicketBook {
  readonly #tickets = new Map<string, Ticket>();
  readonly #stillValid: (key: ApiKeyRecord) => boolean;

  /** `stillValid` is asked again at redeem time, so a key revoked after issuing its ticket opens nothing. */
  constructor(stillValid: (key: ApiKeyRecord) => boolean) {
    this.#stillValid = stillValid;
  }

  issue(sessionId: string, key: ApiKeyRecord): { ticket: string; expiresAt: string } {
    this.#sweep();
    const ticket = `tkt_${randomBytes(24).toString('base64url')}`;
    const expires = Date.now() + TICKET_TTL_MS;
    this.#tickets.set(ticket, { sessionId, key, expires });
    return { ticket, expiresAt: new Date(expires).toISOString() };
  }

  /** The key behind a ticket for this session; the ticket is spent whether or not it matches. */
  redeem(ticket: string, sessionId: string): ApiKeyRecord | undefined {
    const found = this.#tickets.get(ticket);
    this.#tickets.delete(ticket);
    if (!found || found.expires < Date.now() || found.sessionId !== sessionId || !this.#stillValid(found.key)) return undefined;
    return found.key;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [ticket, { expires }] of this.#tickets) if (expires < now) this.#tickets.delete(ticket);
  }
}
