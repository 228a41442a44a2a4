// Terminal tickets on their own: single use, one session, a 30 s life, and the key asked again at
// redeem time. The clock is vitest's fake Date, so the expiry is checked without waiting 30 s.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TICKET_TTL_MS, TicketBook } from '../../gateway/sessions/tickets.ts';
import type { ApiKeyRecord } from '../../gateway/store/types.ts';

const KEY: ApiKeyRecord = { id: 'key_0000000000000001', name: 'k', prefix: 'abcdefgh', admin: false, createdAt: '2026-12-07T00:00:00.000Z', revokedAt: null, lastUsedAt: null };

describe('TicketBook', () => {
  afterEach(() => vi.useRealTimers());

  it('redeems a ticket once, for its session, until it expires', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-12-07T10:00:00Z') });
    const book = new TicketBook(() => true);
    const { ticket, expiresAt } = book.issue('ses_a', KEY);
    expect(expiresAt).toBe('2026-12-07T10:00:30.000Z');
    expect(book.redeem(ticket, 'ses_a')).toEqual(KEY);
    expect(book.redeem(ticket, 'ses_a')).toBeUndefined();
    expect(book.redeem(book.issue('ses_a', KEY).ticket, 'ses_b')).toBeUndefined();
    const late = book.issue('ses_a', KEY).ticket;
    vi.setSystemTime(Date.now() + TICKET_TTL_MS + 1);
    expect(book.redeem(late, 'ses_a')).toBeUndefined();
  });

  it('asks whether the key is still valid when the ticket is redeemed', () => {
    let valid = true;
    const book = new TicketBook(() => valid);
    const { ticket } = book.issue('ses_a', KEY);
    valid = false;
    expect(book.redeem(ticket, 'ses_a')).toBeUndefined();
  });
});
