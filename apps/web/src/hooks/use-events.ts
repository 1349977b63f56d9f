import { useEffect, useState } from 'preact/hooks';

/**
 * The part of an SDK emitter (Room, RemoteParticipant, LocalMedia) these hooks need. Typed
 * structurally, so `events` must be event names the emitter really has.
 */
export interface Emitter<K extends string> {
  on(event: K, listener: () => void): unknown;
  off(event: K, listener: () => void): unknown;
}

/**
 * Re-renders the component whenever one of `events` fires on `emitter`; returns a counter that
 * changes with each of them. Subscribes in an effect and unsubscribes on cleanup.
 */
export function useEventVersion<K extends string>(emitter: Emitter<NoInfer<K>> | null, events: readonly K[]): number {
  const [version, setVersion] = useState(0);
  const key = events.join(' ');
  // `events` is compared by value, through `key`.
  useEffect(() => {
    if (!emitter) return;
    const bump = () => setVersion((v) => v + 1);
    for (const event of events) emitter.on(event, bump);
    bump(); // anything that changed between render and subscription
    return () => {
      for (const event of events) emitter.off(event, bump);
    };
  }, [emitter, key]);
  return version;
}
