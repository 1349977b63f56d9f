import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Config } from './config.js';
import { Connection, type ConnectionContext } from './connection.js';
import { HttpErrorCode, pathnameOf, SECURITY_HEADERS } from './http.js';
import type { IceServerSource } from './iceServers.js';
import type { Logger } from './logger.js';
import type { Clock } from './rateLimiter.js';
import { RoomRegistry } from './room.js';

export const SIGNALING_PATH = '/ws';

/** After cutting sockets off, how long to wait for their close events. */
const TERMINATE_WAIT_MS = 250;

export interface SignalingStats {
  /** Open WebSockets, joined or not. */
  readonly connections: number;
  readonly rooms: number;
  readonly participants: number;
  /** Frames received from clients since start (including rejected ones). */
  readonly messagesIn: number;
  /** Frames sent to clients since start. */
  readonly messagesOut: number;
}

/**
 * The WebSocket side of the server: accepts upgrades on /ws, owns every connection and the
 * rooms, and shuts them down in order.
 */
export class SignalingServer {
  readonly rooms: RoomRegistry;
  readonly #config: Readonly<Config>;
  readonly #logger: Logger;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Connection>();
  readonly #context: ConnectionContext;
  readonly #counters = { messagesIn: 0, messagesOut: 0 };
  #shuttingDown = false;
  #onAllClosed: (() => void) | undefined;

  constructor(config: Readonly<Config>, options: { logger: Logger; clock: Clock; iceServers: IceServerSource }) {
    this.#config = config;
    this.#logger = options.logger;
    this.rooms = new RoomRegistry({ maxParticipants: config.maxParticipants, logger: options.logger });
    this.#wss = new WebSocketServer({
      noServer: true,
      // ws closes the connection with 1009 itself when a frame is larger.
      maxPayload: config.maxMessageBytes,
      // Compression would let a small frame inflate past maxPayload's intent; signaling is small anyway.
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.#context = {
      config,
      iceServers: options.iceServers,
      rooms: this.rooms,
      logger: options.logger,
      clock: options.clock,
      counters: this.#counters,
      isShuttingDown: () => this.#shuttingDown,
    };
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** For the HTTP server's `upgrade` event. Anything but an allowed upgrade on /ws is refused here. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (error) => this.#logger.debug({ err: error }, 'upgrade socket error'));
    if (pathnameOf(req.url) !== SIGNALING_PATH) {
      refuseUpgrade(socket, 404, HttpErrorCode.NotFound, 'WebSocket connections are served at /ws only');
      return;
    }
    if (this.#shuttingDown) {
      // Nothing new during a shutdown: a socket accepted now would only be cut off by the drain.
      refuseUpgrade(socket, 503, HttpErrorCode.ShuttingDown, 'the server is shutting down');
      return;
    }
    if (!this.#originAllowed(req.headers.origin)) {
      this.#logger.debug({ origin: req.headers.origin }, 'WebSocket refused: origin not allowed');
      refuseUpgrade(socket, 403, HttpErrorCode.OriginNotAllowed, 'this origin may not connect');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req));
  }

  stats(): SignalingStats {
    return {
      connections: this.#connections.size,
      rooms: this.rooms.size,
      participants: this.rooms.participantCount,
      messagesIn: this.#counters.messagesIn,
      messagesOut: this.#counters.messagesOut,
    };
  }

  /**
   * First half of a graceful shutdown: joins are refused from now on (`shutting_down`), every
   * participant gets `bye` and a 1001 close (rooms close silently: nobody gets participant-left),
   * and connections that have not joined are closed with 1001.
   */
  beginShutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#logger.info({ connections: this.#connections.size, rooms: this.rooms.size }, 'signaling shutting down');
    this.rooms.closeAll('shutdown');
    for (const connection of [...this.#connections]) connection.shutdown();
  }

  /** Waits until every connection is closed, or cuts the remaining ones off after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (!(await this.#allClosed(timeoutMs))) {
      this.#logger.warn({ connections: this.#connections.size }, 'clients did not close in time; cutting them off');
      for (const connection of this.#connections) connection.terminate();
      // Destroyed sockets report their close on a later tick.
      await this.#allClosed(TERMINATE_WAIT_MS);
    }
    this.#wss.close();
  }

  /** Resolves true once no connection is left, false if some remain after `timeoutMs`. */
  #allClosed(timeoutMs: number): Promise<boolean> {
    if (this.#connections.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onAllClosed = undefined;
        resolve(false);
      }, timeoutMs);
      this.#onAllClosed = () => {
        this.#onAllClosed = undefined;
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  #accept(ws: WebSocket, req: IncomingMessage): void {
    const connection = new Connection(ws, this.#context, req.headers.host);
    this.#connections.add(connection);
    this.#logger.debug({ remote: req.socket.remoteAddress, connections: this.#connections.size }, 'connection opened');
    connection.on('close', () => {
      this.#connections.delete(connection);
      if (this.#connections.size === 0) this.#onAllClosed?.();
    });
  }

  #originAllowed(origin: string | undefined): boolean {
    const allowed = this.#config.allowedOrigins;
    if (allowed.length === 0) return true;
    // With an allow-list, a request without Origin (not a browser) is refused too.
    if (origin === undefined) return false;
    try {
      return allowed.includes(new URL(origin).origin);
    } catch {
      return false;
    }
  }
}

/** Answers a refused upgrade with a small JSON body, the security headers, and closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, code: HttpErrorCode, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ code, message });
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    ...Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
