import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { ErrorCode } from '@convene/protocol';
import { generate } from 'selfsigned';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createConveneServer,
  createSilentLogger,
  SECURITY_HEADERS,
  SERVER_VERSION,
} from '../src/index.js';
import { emptyDir, type RawResponse, rawRequest, startServer, TestClient, upgradeStatus } from './helpers.js';

const INDEX =
  '<!doctype html><title>Convene test app</title><script type="module" src="/assets/app-1a2b3c.js"></script>';
const SECRET = 'TOP SECRET: outside the web root';

/** <tmp>/secret.txt beside <tmp>/web (the web root), with links that point out of it. */
function makeWebRoot(): string {
  const base = emptyDir();
  const web = join(base, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(join(base, 'secret.txt'), SECRET);
  writeFileSync(join(web, 'index.html'), INDEX);
  writeFileSync(join(web, 'assets', 'app-1a2b3c.js'), 'console.log("app");');
  writeFileSync(join(web, 'assets', 'style-4d5e.css'), 'body{margin:0}');
  writeFileSync(join(web, 'favicon.ico'), Buffer.from([0, 0, 1, 0]));
  writeFileSync(join(web, 'manifest.webmanifest'), '{}');
  writeFileSync(join(web, '.env'), SECRET);
  symlinkSync(join(base, 'secret.txt'), join(web, 'leak.txt'));
  symlinkSync(base, join(web, 'up'));
  return web;
}

function expectSecurityHeaders(response: { headers: Record<string, unknown> }): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(response.headers[name.toLowerCase()], name).toBe(value);
  }
}

function json(response: RawResponse): unknown {
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(response.body);
}

describe('health and API', () => {
  it('GET /healthz reports ok, the version and the uptime', async () => {
    const { port } = await startServer();
    const response = await rawRequest(port, '/healthz');
    expect(response.status).toBe(200);
    expect(json(response)).toEqual({ status: 'ok', version: SERVER_VERSION, uptimeSeconds: expect.any(Number) });
    expect(SERVER_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(response.headers['cache-control']).toBe('no-store');
    expectSecurityHeaders(response);
  });

  it('GET /api/rooms/:name counts the participants (0 for a room nobody is in)', async () => {
    const { port, wsUrl } = await startServer({ maxParticipants: 12 });
    expect(json(await rawRequest(port, '/api/rooms/daily-standup'))).toEqual({
      name: 'daily-standup',
      participants: 0,
      mode: 'mesh',
      maxParticipants: 12,
    });
    await TestClient.joined(wsUrl, 'daily-standup', 'Ada');
    await TestClient.joined(wsUrl, 'daily-standup', 'Bob');
    await TestClient.joined(wsUrl, 'other', 'Cyd');
    const response = await rawRequest(port, '/api/rooms/daily-standup?x=1');
    expect(response.status).toBe(200);
    expect(json(response)).toMatchObject({ name: 'daily-standup', participants: 2 });
    expect(json(await rawRequest(port, '/api/rooms/constructor'))).toMatchObject({ participants: 0 });
  });

  it.each(['/api/rooms/Daily%20Standup', '/api/rooms/-x', '/api/rooms/%E0%A4%A', '/api/rooms/', '/api/rooms/..'])(
    'answers 400 invalid_room_name for %s',
    async (path) => {
      const { port } = await startServer();
      const response = await rawRequest(port, path);
      expect(response.status).toBe(400);
      expect(json(response)).toEqual({ code: ErrorCode.InvalidRoomName, message: expect.any(String) });
      expectSecurityHeaders(response);
    },
  );

  it('answers unknown API paths with 404 JSON and wrong methods with 405 + Allow', async () => {
    const { port } = await startServer();
    for (const path of ['/api', '/api/', '/api/nope', '/api/rooms', '/api/rooms/a/b']) {
      const response = await rawRequest(port, path);
      expect(response.status, path).toBe(404);
      expect(json(response)).toEqual({ code: 'not_found', message: expect.any(String) });
      expectSecurityHeaders(response);
    }
    for (const [method, path] of [
      ['POST', '/healthz'],
      ['DELETE', '/api/rooms/abc'],
      ['PUT', '/'],
      ['POST', '/r/abc'],
    ] as const) {
      const response = await rawRequest(port, path, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD');
      expect(json(response)).toMatchObject({ code: 'method_not_allowed' });
      expectSecurityHeaders(response);
    }
  });

  it('answers a plain GET /ws with 426', async () => {
    const { port } = await startServer();
    const response = await rawRequest(port, '/ws');
    expect(response.status).toBe(426);
    expect(json(response)).toMatchObject({ code: 'upgrade_required' });
  });
});

describe('web app', () => {
  it('serves index.html for /, room links and other app paths, never cached', async () => {
    const { port } = await startServer({ webRoot: makeWebRoot() });
    // A room link that looks like a file name still opens the app, which explains the bad name (regression).
    for (const path of [
      '/',
      '/r/daily-standup',
      '/r/daily-standup?join=1',
      '/settings/devices',
      '/r/',
      '/r/john.smith',
      '/r/Not..A..Room',
    ]) {
      const response = await rawRequest(port, path);
      expect(response.status, path).toBe(200);
      expect(response.body).toBe(INDEX);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-cache');
      expectSecurityHeaders(response);
    }
  });

  it('serves files with their MIME type; hashed assets are cached for good', async () => {
    const { port } = await startServer({ webRoot: makeWebRoot() });
    const script = await rawRequest(port, '/assets/app-1a2b3c.js');
    expect(script.status).toBe(200);
    expect(script.body).toBe('console.log("app");');
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expectSecurityHeaders(script);
    expect((await rawRequest(port, '/assets/style-4d5e.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const icon = await rawRequest(port, '/favicon.ico');
    expect(icon.headers['content-type']).toBe('image/x-icon');
    expect(icon.headers['cache-control']).toBe('no-cache');
    expect((await rawRequest(port, '/manifest.webmanifest')).headers['content-type']).toBe(
      'application/manifest+json; charset=utf-8',
    );
  });

  it('answers 404 (not the app) for missing assets and files', async () => {
    const { port } = await startServer({ webRoot: makeWebRoot() });
    for (const path of ['/assets/missing.js', '/assets/', '/assets', '/robots.txt', '/r/room/logo.png']) {
      const response = await rawRequest(port, path);
      expect(response.status, path).toBe(404);
      expect(response.body).not.toContain('Convene test app');
      expectSecurityHeaders(response);
    }
  });

  it('supports HEAD and conditional requests', async () => {
    const { port } = await startServer({ webRoot: makeWebRoot() });
    const head = await rawRequest(port, '/assets/app-1a2b3c.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String('console.log("app");'.length));
    const etag = String(head.headers.etag);
    const again = await rawRequest(port, '/assets/app-1a2b3c.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it.each([
    '/..%2f..%2fetc/passwd',
    '/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
    '/assets/../../package.json',
    '/assets/../../../package.json',
    '/../secret.txt',
    '/..%2fsecret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/assets/..%5c..%5csecret.txt',
    '/..\\secret.txt',
    '/leak.txt',
    '/up/secret.txt',
    '/up/web/index.html',
    '/.env',
    '/%2eenv',
    '//etc/passwd',
    '/%00',
    '/index.html%00.js',
    '/%E0%A4%A',
  ])('never serves anything outside the web root for %s', async (path) => {
    const { port } = await startServer({ webRoot: makeWebRoot() });
    const response = await rawRequest(port, path);
    expect(response.body).not.toContain('TOP SECRET');
    expect(response.body).not.toContain('root:');
    expect(response.body).not.toContain('"name"');
    // Either refused, or the app's own index page for a path the app may route.
    if (response.status === 200) expect(response.body).toBe(INDEX);
    else expect([400, 404]).toContain(response.status);
    expectSecurityHeaders(response);
  });

  it('explains how to build the app when the web root has no index.html', async () => {
    const { port } = await startServer({ webRoot: emptyDir() });
    for (const path of ['/', '/r/daily-standup']) {
      const response = await rawRequest(port, path);
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toContain('npm run build');
      expectSecurityHeaders(response);
    }
    expect((await rawRequest(port, '/healthz')).status).toBe(200);
  });
});

describe('WebSocket upgrade', () => {
  it('accepts upgrades on /ws only; other paths get 404 with the security headers', async () => {
    const { port } = await startServer();
    expect((await upgradeStatus(`ws://127.0.0.1:${port}/ws`)).status).toBe(101);
    expect((await upgradeStatus(`ws://127.0.0.1:${port}/ws?client=web`)).status).toBe(101);
    for (const path of ['/', '/socket', '/ws/', '/api/ws']) {
      const refused = await upgradeStatus(`ws://127.0.0.1:${port}${path}`);
      expect(refused.status, path).toBe(404);
      expectSecurityHeaders(refused);
    }
  });

  it('accepts any origin when no allow-list is configured', async () => {
    const { port } = await startServer();
    expect((await upgradeStatus(`ws://127.0.0.1:${port}/ws`, { origin: 'https://anywhere.example' })).status).toBe(101);
  });

  it('enforces the origin allow-list when configured (403 otherwise)', async () => {
    const { port } = await startServer({ allowedOrigins: ['https://meet.example.org/', 'http://localhost:5173'] });
    const url = `ws://127.0.0.1:${port}/ws`;
    expect((await upgradeStatus(url, { origin: 'https://meet.example.org' })).status).toBe(101);
    expect((await upgradeStatus(url, { origin: 'https://MEET.example.org:443' })).status).toBe(101);
    expect((await upgradeStatus(url, { origin: 'http://localhost:5173' })).status).toBe(101);
    for (const origin of [
      'https://evil.example',
      'http://meet.example.org',
      'https://meet.example.org.evil.example',
      'null',
    ]) {
      const refused = await upgradeStatus(url, { origin });
      expect(refused.status, origin).toBe(403);
      expectSecurityHeaders(refused);
    }
    expect((await upgradeStatus(url)).status).toBe(403);
  });
});

describe('HTTPS', () => {
  function httpsHealth(port: number): Promise<{ status: number; altNames: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsGet({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false }, (res) => {
        const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
        res.resume();
        resolve({ status: res.statusCode ?? 0, altNames: cert.subjectaltname ?? '' });
      });
      req.on('error', reject);
    });
  }

  it('serves HTTPS with an in-memory self-signed certificate naming localhost and the address', async () => {
    const { port, url } = await startServer({ https: true });
    expect(url).toBe(`https://127.0.0.1:${port}`);
    const { status, altNames } = await httpsHealth(port);
    expect(status).toBe(200);
    expect(altNames).toContain('DNS:localhost');
    expect(altNames).toContain('IP Address:127.0.0.1');
  });

  it('serves HTTPS with the given PEM files', async () => {
    const pems = await generate([{ name: 'commonName', value: 'files.test' }], { keyType: 'ec', algorithm: 'sha256' });
    const dir = emptyDir();
    writeFileSync(join(dir, 'cert.pem'), pems.cert);
    writeFileSync(join(dir, 'key.pem'), pems.private);
    const { port, url } = await startServer({ tlsCertFile: join(dir, 'cert.pem'), tlsKeyFile: join(dir, 'key.pem') });
    expect(url.startsWith('https://')).toBe(true);
    expect((await httpsHealth(port)).status).toBe(200);
  });

  it('refuses to start with a missing certificate file (ConfigError)', async () => {
    const dir = emptyDir();
    const server = createConveneServer(
      { host: '127.0.0.1', port: 0, tlsCertFile: join(dir, 'nope.pem'), tlsKeyFile: join(dir, 'nope.key') },
      { logger: createSilentLogger() },
    );
    const error: unknown = await server.listen().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^--tls-cert: cannot read .*nope\.pem \(ENOENT\)$/),
      expect.stringMatching(/^--tls-key: cannot read .*nope\.key \(ENOENT\)$/),
    ]);
    await server.close();
  });
});
