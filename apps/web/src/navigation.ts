import { useCallback, useEffect, useState } from 'preact/hooks';
import { isValidRoomName } from './room-name';

export type Navigate = (path: string) => void;

export type Route =
  | { readonly page: 'home' }
  | { readonly page: 'room'; readonly room: string }
  | { readonly page: 'invalid-room' }
  | { readonly page: 'not-found' };

/** `/` → home; `/r/<room>` → that room (or an invalid-room page); anything else → not found. */
export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { page: 'home' };
  const match = /^\/r\/([^/]*)\/?$/.exec(pathname);
  if (!match) return { page: 'not-found' };
  let room: string;
  try {
    room = decodeURIComponent(match[1] ?? '');
  } catch {
    return { page: 'invalid-room' };
  }
  return isValidRoomName(room) ? { page: 'room', room } : { page: 'invalid-room' };
}

export function roomPath(room: string): string {
  return `/r/${encodeURIComponent(room)}`;
}

/** The current location.pathname, and a navigate() that pushes a history entry (no router library). */
export function usePathname(): [string, Navigate] {
  const [pathname, setPathname] = useState(() => window.location.pathname);
  useEffect(() => {
    const onPopState = () => setPathname(window.location.pathname);
    window.addEventListener('popstate', onPopState);
    return () => window.removeEventListener('popstate', onPopState);
  }, []);
  const navigate = useCallback<Navigate>((path) => {
    if (path !== window.location.pathname + window.location.search) window.history.pushState(null, '', path);
    setPathname(window.location.pathname);
    window.scrollTo(0, 0);
  }, []);
  return [pathname, navigate];
}
