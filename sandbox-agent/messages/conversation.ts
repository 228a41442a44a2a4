// One claim's conversation with a message harness: at most one turn at a time, each turn's events
// appended to the agent's event log (so the gateway stores them and they outlive the sandbox).
import { randomUUID } from 'node:crypto';
import type { EventLog } from '../events.ts';
import type { TurnEvent } from '../protocol.ts';
import { type DriverEvent, type MessageDriver, TurnError } from './driver.ts';

export class Conversation {
  readonly #driver: MessageDriver;
  readonly #events: EventLog;
  #running: { id: string; controller: AbortController } | null = null;

  constructor(driver: MessageDriver, events: EventLog) {
    this.#driver = driver;
    this.#events = events;
  }

  get runningTurn(): string | null {
    return this.#running?.id ?? null;
  }

  /**
   * Starts a turn and answers its id; its events follow in the log, the last being turn.finished or
   * error. Throws if one is running (callers check runningTurn first and answer 409).
   */
  start(text: string): string {
    if (this.#running) throw new Error(`turn ${this.#running.id} is still running`);
    const id = randomUUID();
    const controller = new AbortController();
    this.#running = { id, controller };
    this.#append({ type: 'message.user', data: { turn: id, text } });
    this.#append({ type: 'turn.started', data: { turn: id } });
    void this.#run(id, text, controller.signal).finally(() => {
      this.#running = null;
    });
    return id;
  }

  /** Stops the running turn; false when none runs. The turn then ends with an `error` {aborted: true}. */
  abort(): boolean {
    if (!this.#running) return false;
    this.#running.controller.abort();
    return true;
  }

  async #run(turn: string, text: string, signal: AbortSignal): Promise<TurnEvent> {
    const emit = (event: DriverEvent) => {
      if (signal.aborted) return;
      this.#events.touch('message');
      this.#append({ type: event.type, data: { ...event.data, turn } } as TurnEvent);
    };
    try {
      const result = await this.#driver.runTurn(text, emit, signal);
      if (signal.aborted) return this.#append(abortedEvent(turn));
      return this.#append({ type: 'turn.finished', data: { turn, usage: result.usage, text: result.text } });
    } catch (err) {
      if (signal.aborted) return this.#append(abortedEvent(turn));
      const message = err instanceof TurnError ? err.message : `the harness driver failed: ${(err as Error).message}`;
      return this.#append({ type: 'error', data: { turn, message } });
    }
  }

  #append(event: TurnEvent): TurnEvent {
    this.#events.append(event.type, event.data);
    return event;
  }
}

function abortedEvent(turn: string): TurnEvent {
  return { type: 'error', data: { turn, message: 'the turn was aborted', aborted: true } };
}
