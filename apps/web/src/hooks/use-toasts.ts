import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Toast {
  readonly id: number;
  readonly text: string;
}

const TOAST_MS = 4000;

/** Short messages that disappear by themselves; timers are cleared on unmount. */
export function useToasts(): [readonly Toast[], (text: string) => void] {
  const [toasts, setToasts] = useState<readonly Toast[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
    };
  }, []);

  const push = useCallback((text: string) => {
    const id = nextId.current++;
    setToasts((list) => [...list.slice(-3), { id, text }]);
    const timer = setTimeout(() => {
      timers.current.delete(timer);
      setToasts((list) => list.filter((toast) => toast.id !== id));
    }, TOAST_MS);
    timers.current.add(timer);
  }, []);

  return [toasts, push];
}
