import { EventEmitter } from 'node:events';

/** Each event name maps to the tuple of its listeners' arguments (STYLE #1). */
export type SfuEventMap<Events> = { [K in keyof Events]: unknown[] };

/** Where a throwing listener is reported; the router passes its logger's. */
export type ListenerErrorHandler = (event: string, error: unknown) => void;

/**
 * Node's EventEmitter with a typed event map and `safeEmit`: a listener that throws is reported to
 * `onListenerError` (the router's logger) instead of unwinding into the packet path that emitted.
 */
export class SfuEmitter<Events extends SfuEventMap<Events>> extends EventEmitter {
  constructor(private readonly onListenerError: ListenerErrorHandler) {
    super();
  }

  override on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  protected safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    // Raw listeners: a once() wrapper removes itself when called.
    const listeners = this.rawListeners(event) as ((...args: Events[K]) => void)[];
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
    return listeners.length > 0;
  }
}
