import { getLogger } from './logger.js';

const log = getLogger('emitter');

/**
 * Each event name maps to the tuple of arguments its listeners receive. Written as a mapped
 * constraint so that event maps declared as interfaces qualify too.
 */
export type EventMap<Events> = { [K in keyof Events]: unknown[] };

interface Registration {
  /** The function the caller passed (what off() compares against). */
  readonly listener: unknown;
  /** Calls it: directly for on(), through a self-removing wrapper for once(). */
  readonly call: (args: unknown[]) => void;
}

/**
 * Typed event emitter. Emitting is `safeEmit` (protected): a listener that throws is logged and
 * the remaining listeners still run, so one buggy UI handler cannot break the SDK's state machine.
 */
export class TypedEmitter<Events extends EventMap<Events>> {
  private readonly registrations = new Map<keyof Events, Registration[]>();

  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): this {
    return this.register(event, { listener, call: (args) => listener(...(args as Events[K])) });
  }

  once<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): this {
    return this.register(event, {
      listener,
      call: (args) => {
        this.off(event, listener);
        listener(...(args as Events[K]));
      },
    });
  }

  off<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): this {
    const registrations = this.registrations.get(event);
    if (!registrations) return this;
    const index = registrations.findIndex((registration) => registration.listener === listener);
    if (index >= 0) registrations.splice(index, 1);
    if (registrations.length === 0) this.registrations.delete(event);
    return this;
  }

  /** Removes every listener of `event`, or of all events. */
  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.registrations.clear();
    else this.registrations.delete(event);
    return this;
  }

  listenerCount(event: keyof Events): number {
    return this.registrations.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` in registration order; returns whether there was any. */
  protected safeEmit<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    const registrations = this.registrations.get(event);
    if (!registrations || registrations.length === 0) return false;
    // Copy: a listener may add or remove listeners while we iterate.
    for (const registration of [...registrations]) {
      try {
        registration.call(args);
      } catch (error) {
        log.error(`a listener of "${String(event)}" threw`, error);
      }
    }
    return true;
  }

  private register(event: keyof Events, registration: Registration): this {
    const registrations = this.registrations.get(event);
    if (registrations) registrations.push(registration);
    else this.registrations.set(event, [registration]);
    return this;
  }
}
