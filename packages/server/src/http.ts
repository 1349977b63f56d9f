import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, isValidRoomName } from '@convene/protocol';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { StaticFiles } from './staticFiles.js';

/**
 * Sent on every HTTP response, upgrade refusals included. The CSP allows only this origin, plus
 * WebSocket connections (`ws:`/`wss:`; older Safari does not count them as 'self').
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "font-src 'self' data:",
    "worker-src 'self' blob:",
    "connect-src 'self' ws: wss:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'Permissions-Policy': 'camera=(self), microphone=(self), display-capture=(self)',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
});

/** Error codes of the HTTP API (the JSON body's `code`). Never reused; see docs/errors.md. */
export const HttpErrorCode = {
  NotFound: 'not_found',
  MethodNotAllowed: 'method_not_allowed',
  InvalidRoomName: ErrorCode.InvalidRoomName,
  UpgradeRequired: 'upgrade_required',
  OriginNotAllowed: 'origin_not_allowed',
  ShuttingDown: ErrorCode.ShuttingDown,
  Internal: ErrorCode.Internal,
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** GET /api/rooms/:name */
export interface RoomStatus {
  readonly name: string;
  readonly participants: number;
  readonly mode: 'mesh';
  readonly maxParticipants: number;
}

/** GET /healthz */
export interface Health {
  readonly status: 'ok';
  readonly version: string;
  readonly uptimeSeconds: number;
}

export interface HttpContext {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly version: string;
  /** Whole seconds since the server started. */
  uptimeSeconds(): number;
  /** Participants currently in the room of that (valid) name; 0 when it does not exist. */
  participantsIn(room: string): number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const READ_METHODS = ['GET', 'HEAD'];
const ROOM_PATH = /^\/api\/rooms\/([^/]*)$/;

/** The request listener for the HTTP(S) server: health, the REST API, and the web app. */
export function createHttpHandler(context: HttpContext): Handler {
  const staticFiles = new StaticFiles({ webRoot: context.config.webRoot, logger: context.logger });

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const pathname = pathnameOf(req.url);
    if (pathname === '/healthz') {
      if (!allowMethods(req, res, READ_METHODS)) return;
      const health: Health = { status: 'ok', version: context.version, uptimeSeconds: context.uptimeSeconds() };
      sendJson(req, res, 200, health);
      return;
    }
    if (pathname === '/api' || pathname.startsWith('/api/')) {
      const match = ROOM_PATH.exec(pathname);
      if (!match) {
        sendJsonError(req, res, 404, HttpErrorCode.NotFound, 'no such API endpoint');
        return;
      }
      if (!allowMethods(req, res, READ_METHODS)) return;
      const name = safeDecode(match[1] ?? '');
      if (name === undefined || !isValidRoomName(name)) {
        sendJsonError(
          req,
          res,
          400,
          HttpErrorCode.InvalidRoomName,
          'room names are 1-64 lower-case letters, digits, "-" or "_", starting and ending with a letter or digit',
        );
        return;
      }
      const status: RoomStatus = {
        name,
        participants: context.participantsIn(name),
        mode: 'mesh',
        maxParticipants: context.config.maxParticipants,
      };
      sendJson(req, res, 200, status);
      return;
    }
    if (pathname === '/ws') {
      // A plain request to the WebSocket endpoint (upgrades never reach this handler).
      res.setHeader('Upgrade', 'websocket');
      sendJsonError(req, res, 426, HttpErrorCode.UpgradeRequired, 'this endpoint only speaks WebSocket');
      return;
    }
    if (!allowMethods(req, res, READ_METHODS)) return;
    await staticFiles.serve(req, res, pathname);
  };

  return (req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    route(req, res).catch((error: unknown) => {
      context.logger.error({ err: error, method: req.method, path: pathnameOf(req.url) }, 'HTTP request failed');
      if (!res.headersSent) sendJsonError(req, res, 500, HttpErrorCode.Internal, 'internal server error');
      else res.destroy();
    });
  };
}

/** The raw path of a request URL, without query or fragment and without normalizing `..`. */
export function pathnameOf(url: string | undefined): string {
  let path = url ?? '/';
  if (!path.startsWith('/')) {
    // absolute-form ("GET http://host/path"), as proxies may send
    try {
      path = new URL(path).pathname;
    } catch {
      return '/';
    }
  }
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

function allowMethods(req: IncomingMessage, res: ServerResponse, methods: readonly string[]): boolean {
  if (methods.includes(req.method ?? '')) return true;
  res.setHeader('Allow', methods.join(', '));
  sendJsonError(req, res, 405, HttpErrorCode.MethodNotAllowed, `use ${methods.join(' or ')}`);
  return false;
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(req.method === 'HEAD' ? undefined : text);
}

function sendJsonError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: HttpErrorCode,
  message: string,
): void {
  sendJson(req, res, status, { code, message });
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
