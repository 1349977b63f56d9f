import { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';

/** Each event name maps to the tuple of its listener's arguments. */
export type EventMap = Record<string, unknown[]>;

type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * An event emitter whose event names and listener arguments are checked by the compiler.
 * Emitting is `safeEmit`: a listener that throws is logged and the other listeners still run,
 * so a bug in one observer (or in one room) cannot unwind the code that emitted.
 *
 * Events whose names start with `@` are private: the owning parent listens to them for
 * cleanup (see the close cascade in room.ts); application code uses the plain names.
 */
export class TypedEmitter<Events extends EventMap> {
  readonly #emitter = new EventEmitter({ captureRejections: false });
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
    // A room can hold many participants, each with a listener on the same emitter.
    this.#emitter.setMaxListeners(0);
  }

  on<Name extends keyof Events & string>(name: Name, listener: Listener<Events[Name]>): this {
    this.#emitter.on(name, listener as Listener<unknown[]>);
    return this;
  }

  once<Name extends keyof Events & string>(name: Name, listener: Listener<Events[Name]>): this {
    this.#emitter.once(name, listener as Listener<unknown[]>);
    return this;
  }

  off<Name extends keyof Events & string>(name: Name, listener: Listener<Events[Name]>): this {
    this.#emitter.off(name, listener as Listener<unknown[]>);
    return this;
  }

  listenerCount<Name extends keyof Events & string>(name: Name): number {
    return this.#emitter.listenerCount(name);
  }

  protected removeAllListeners(): void {
    this.#emitter.removeAllListeners();
  }

  /** Calls every listener; a throwing listener is logged and does not stop the others. */
  protected safeEmit<Name extends keyof Events & string>(name: Name, ...args: Events[Name]): boolean {
    // rawListeners: `once` wrappers must run as wrappers so they remove themselves.
    const listeners = this.#emitter.rawListeners(name) as Listener<Events[Name]>[];
    for (const listener of listeners) {
      try {
        listener(...args);
      } catch (error) {
        this.#logger.error({ err: error, event: name }, 'event listener threw');
      }
    }
    return listeners.length > 0;
  }
}
