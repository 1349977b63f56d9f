import { describe, expect, it } from 'vitest';
import { parseRoute, roomPath } from './navigation';

describe('parseRoute', () => {
  it.each([
    ['/', { page: 'home' }],
    ['/r/brave-otter-42', { page: 'room', room: 'brave-otter-42' }],
    ['/r/brave-otter-42/', { page: 'room', room: 'brave-otter-42' }],
    ['/r/Brave', { page: 'invalid-room' }],
    ['/r/', { page: 'invalid-room' }],
    ['/r/%E0%A4%A', { page: 'invalid-room' }],
    ['/r/a/b', { page: 'not-found' }],
    ['/elsewhere', { page: 'not-found' }],
  ])('%s', (pathname, route) => {
    expect(parseRoute(pathname)).toEqual(route);
  });

  it('round-trips room paths', () => {
    expect(parseRoute(roomPath('team_sync-2'))).toEqual({ page: 'room', room: 'team_sync-2' });
  });
});
