import { describe, expect, it } from 'vitest';
import { pathnameOf } from './http.js';
import { decodeRequestPath } from './staticFiles.js';

describe('decodeRequestPath', () => {
  it.each([
    ['/', []],
    ['/index.html', ['index.html']],
    ['/r/daily-standup', ['r', 'daily-standup']],
    ['/assets/app-1a2b.js', ['assets', 'app-1a2b.js']],
    ['//double//slashes/', ['double', 'slashes']],
    ['/caf%C3%A9', ['café']],
    ['/a%20b', ['a b']],
  ])('%s → %j', (path, segments) => expect(decodeRequestPath(path)).toEqual(segments));

  it.each([
    '/..',
    '/../etc/passwd',
    '/assets/../../package.json',
    '/%2e%2e/secret',
    '/%2E%2E%2Fsecret',
    '/..%2fetc',
    '/a%2fb',
    '/a%5cb',
    '/a\\b',
    '/.env',
    '/.git/config',
    '/%2egit/config',
    '/a/./b',
    '/x%00.js',
    '/%E0%A4%A',
    'relative',
  ])('refuses %s', (path) => expect(decodeRequestPath(path)).toBeNull());
});

describe('pathnameOf', () => {
  it.each([
    ['/healthz?x=1', '/healthz'],
    ['/r/a#frag', '/r/a'],
    ['/assets/../x', '/assets/../x'],
    ['http://example.org/api/rooms/a?b', '/api/rooms/a'],
    [undefined, '/'],
  ])('%s → %s', (url, path) => expect(pathnameOf(url)).toBe(path));
});
