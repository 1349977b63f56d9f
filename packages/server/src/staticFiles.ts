import { createReadStream, existsSync, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from './logger.js';

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

/** Vite puts content-hashed files under /assets/: their URL changes when they do, so cache them for good. */
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** Everything else (index.html first) is revalidated so a new build shows up on the next load. */
const REVALIDATE_CACHE = 'no-cache';

/**
 * Splits a request path into decoded segments, or returns `null` when it must not be served:
 * bad percent-encoding, `.`/`..` segments (also when percent-encoded), encoded slashes or
 * backslashes, NUL bytes, and hidden files (`.env`, `.git`). Empty segments are dropped.
 */
export function decodeRequestPath(pathname: string): string[] | null {
  if (!pathname.startsWith('/')) return null;
  const segments: string[] = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment.startsWith('.') || /[/\\\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

/** Whether the web root holds a built app (checked at startup to warn early). */
export function hasWebApp(webRoot: string): boolean {
  return existsSync(join(webRoot, 'index.html'));
}

/** A path the single-page app handles itself (a room link), as opposed to a file that is missing. */
function looksLikeFile(segments: readonly string[]): boolean {
  // Room links belong to the app even when they look odd (`/r/john.smith`): it explains the bad name.
  if (segments[0] === 'r' && segments.length === 2) return false;
  const last = segments.at(-1) ?? '';
  return segments[0] === 'assets' || extname(last) !== '';
}

export interface StaticFilesOptions {
  readonly webRoot: string;
  readonly logger: Logger;
}

/**
 * Serves the built web app. Real files are served with their MIME type; paths that are not files
 * (`/`, `/r/<room>`, …) get index.html so the app's router can take over; a missing asset is a 404.
 * Nothing outside the web root is ever read: segments are checked before joining, and the real
 * path (after symlinks) must still be inside the web root.
 */
export class StaticFiles {
  readonly #webRoot: string;
  readonly #logger: Logger;

  constructor(options: StaticFilesOptions) {
    this.#webRoot = options.webRoot;
    this.#logger = options.logger;
  }

  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const segments = decodeRequestPath(pathname);
    if (segments === null) {
      sendText(res, 400, 'Bad request path');
      return;
    }
    if (segments.length > 0) {
      const file = await this.#findFile(segments);
      if (file) {
        const cache = segments[0] === 'assets' ? IMMUTABLE_CACHE : REVALIDATE_CACHE;
        await this.#sendFile(req, res, file.path, file.stats, cache);
        return;
      }
      if (looksLikeFile(segments)) {
        sendText(res, 404, 'Not found');
        return;
      }
    }
    await this.#sendIndex(req, res);
  }

  async #sendIndex(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const index = await this.#findFile(['index.html']);
    if (index) {
      await this.#sendFile(req, res, index.path, index.stats, REVALIDATE_CACHE);
      return;
    }
    res.statusCode = 503;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(req.method === 'HEAD' ? undefined : notBuiltPage(this.#webRoot));
  }

  /** The regular file at these segments inside the web root, or undefined. */
  async #findFile(segments: readonly string[]): Promise<{ path: string; stats: Stats } | undefined> {
    try {
      const root = await realpath(this.#webRoot);
      const real = await realpath(join(root, ...segments));
      if (!real.startsWith(root + sep)) return undefined;
      const stats = await stat(real);
      return stats.isFile() ? { path: real, stats } : undefined;
    } catch {
      return undefined;
    }
  }

  async #sendFile(req: IncomingMessage, res: ServerResponse, path: string, stats: Stats, cache: string): Promise<void> {
    const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    res.setHeader('Content-Type', MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream');
    res.setHeader('Cache-Control', cache);
    res.setHeader('ETag', etag);
    res.setHeader('Last-Modified', stats.mtime.toUTCString());
    if (req.headers['if-none-match'] === etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Length', stats.size);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    try {
      await pipeline(createReadStream(path), res);
    } catch (error) {
      // Usually the client went away mid-download; the response is already broken either way.
      this.#logger.debug({ err: error }, 'static file transfer ended early');
      res.destroy();
    }
  }
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}

function notBuiltPage(webRoot: string): string {
  const escaped = webRoot.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Convene: web app not built</title></head>
<body>
<h1>Convene is running, but the web app is not built</h1>
<p>No <code>index.html</code> was found in <code>${escaped}</code>.</p>
<p>Run <code>npm run build</code> in the Convene directory, then reload this page
(or point <code>--web-root</code> at a built web app).</p>
<p>The signaling server itself is up: see <a href="/healthz">/healthz</a>.</p>
</body>
</html>
`;
}
