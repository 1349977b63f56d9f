import {
  type ErrorMessage,
  type JoinedMessage,
  type JoinMessage,
  type LeaveMessage,
  parseServerMessage,
  type ServerMessage,
  type SignalMessage,
  type UpdateMessage,
} from '@convene/protocol';
import { TypedEmitter } from './emitter.js';
import { ConveneError } from './errors.js';
import { getLogger, type Logger } from './logger.js';

export type SignalingState = 'connecting' | 'open' | 'closed';

type OkMessage = Extract<ServerMessage, { type: 'ok' }>;
/** Server messages that are not the reply to a request: room events, and errors about id-less messages. */
export type ServerEvent = Exclude<ServerMessage, JoinedMessage | OkMessage>;

/** Requests without their id: the client numbers them. */
export type SignalingRequest = Omit<JoinMessage, 'id'> | Omit<UpdateMessage, 'id'>;
/** What each request is answered with when it succeeds. */
export type ReplyTo<R extends SignalingRequest> = R extends { type: 'join' } ? JoinedMessage : OkMessage;

export interface SignalingEvents {
  'state-changed': [state: SignalingState, previous: SignalingState];
  message: [message: ServerEvent];
  /** null: we closed it. Otherwise why the connection ended (from the close code). */
  closed: [reason: ConveneError | null];
}

export interface SignalingOptions {
  url: string;
  WebSocket: new (url: string) => WebSocket;
  /** How long a request waits for its reply. Default 10 s. */
  requestTimeoutMs?: number;
  logger?: Logger;
}

interface PendingRequest {
  expect: 'joined' | 'ok';
  resolve(message: JoinedMessage | OkMessage): void;
  reject(error: ConveneError): void;
  timer: ReturnType<typeof setTimeout>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * One WebSocket to the signaling server: numbered requests that get exactly one reply (or time
 * out), fire-and-forget messages, and typed server events. Every frame is validated with the
 * protocol schemas; a bad frame is logged and dropped, never thrown.
 */
export class SignalingClient extends TypedEmitter<SignalingEvents> {
  private currentState: SignalingState = 'connecting';
  private socket: WebSocket | null = null;
  private nextRequestId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  /** The last id-less or request `error`: a close 4004 that follows it takes its code. */
  private lastServerError: ConveneError | null = null;
  private readonly log: Logger;
  private readonly requestTimeoutMs: number;
  private detachSocket: (() => void) | null = null;
  /** Set while connect() waits: shutdown() rejects it if the socket never opened. */
  private rejectConnect: ((error: ConveneError) => void) | null = null;

  constructor(private readonly options: SignalingOptions) {
    super();
    this.log = options.logger ?? getLogger('signaling');
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  get state(): SignalingState {
    return this.currentState;
  }

  /** Opens the socket. Rejects with `server_unreachable` if it does not open within `timeoutMs`. */
  connect(timeoutMs: number): Promise<void> {
    if (this.socket) return Promise.reject(new Error('connect() was already called'));
    if (this.currentState === 'closed') return Promise.reject(ConveneError.closed('signaling connection'));
    const { url } = this.options;
    return new Promise<void>((resolve, reject) => {
      this.rejectConnect = reject;
      let socket: WebSocket;
      try {
        socket = new this.options.WebSocket(url);
      } catch (error) {
        // A malformed URL throws synchronously (SyntaxError).
        this.shutdown(ConveneError.serverUnreachable(url, error));
        return;
      }
      this.socket = socket;
      const timer = setTimeout(() => {
        this.log.warn(`socket to ${url} did not open within ${timeoutMs} ms`);
        this.shutdown(ConveneError.serverUnreachable(url), 4000, 'connect timeout');
      }, timeoutMs);

      const onOpen = (): void => {
        clearTimeout(timer);
        this.rejectConnect = null;
        this.setState('open');
        resolve();
      };
      const onMessage = (event: MessageEvent): void => this.handleFrame(event.data);
      const onError = (): void => {
        // Browsers give no detail here; the close event that follows says what happened.
        this.log.debug('socket error');
      };
      const onClose = (event: CloseEvent): void => {
        clearTimeout(timer);
        const wasOpen = this.currentState === 'open';
        const error = wasOpen
          ? ConveneError.fromClose(event.code, event.reason, this.lastServerError)
          : ConveneError.serverUnreachable(url);
        this.log.info(`socket closed: ${event.code} ${event.reason}`);
        this.shutdown(error);
      };
      socket.addEventListener('open', onOpen);
      socket.addEventListener('message', onMessage);
      socket.addEventListener('error', onError);
      socket.addEventListener('close', onClose);
      // The error listener stays: closing a socket that is still connecting makes some
      // implementations (Node's ws) emit an error that must have a listener.
      this.detachSocket = () => {
        clearTimeout(timer);
        socket.removeEventListener('open', onOpen);
        socket.removeEventListener('message', onMessage);
        socket.removeEventListener('close', onClose);
      };
    });
  }

  /**
   * Sends a request and waits for its one reply. Rejects with the server's error code, with
   * `timeoutError()` (default `connection_lost`: a server that stops answering is a lost link),
   * or with the reason the connection closed.
   */
  request<R extends SignalingRequest>(
    request: R,
    options: { timeoutMs?: number; timeoutError?: () => ConveneError } = {},
  ): Promise<ReplyTo<R>> {
    if (this.currentState !== 'open' || !this.socket) {
      return Promise.reject(ConveneError.closed('signaling connection'));
    }
    const id = this.nextRequestId++;
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const socket = this.socket;
    return new Promise<ReplyTo<R>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.log.warn(`no reply to ${request.type} #${id} within ${timeoutMs} ms`);
        reject(
          options.timeoutError?.() ?? ConveneError.connectionLost(`no reply to ${request.type} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.pending.set(id, {
        expect: request.type === 'join' ? 'joined' : 'ok',
        resolve: resolve as (message: JoinedMessage | OkMessage) => void,
        reject,
        timer,
      });
      this.log.debug(`→ ${request.type} #${id}`);
      socket.send(JSON.stringify({ ...request, id }));
    });
  }

  /** Fire-and-forget message. Returns false (and drops it) if the socket is not open. */
  send(message: SignalMessage | LeaveMessage): boolean {
    if (this.currentState !== 'open' || !this.socket) {
      this.log.debug(`dropping ${message.type}: socket is ${this.currentState}`);
      return false;
    }
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Closes the socket (1000). Pending requests reject with `closed`; emits closed(null). Idempotent. */
  close(): void {
    this.shutdown(null, 1000, 'client closed');
  }

  private handleFrame(data: unknown): void {
    if (typeof data !== 'string') {
      this.log.warn('ignoring a binary frame');
      return;
    }
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      this.log.warn(`ignoring a bad frame (${parsed.code}): ${parsed.message}`);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'joined':
      case 'ok':
        this.settle(message.id, message);
        return;
      case 'error':
        this.lastServerError = ConveneError.fromServer(message);
        if (message.id !== undefined) {
          this.settle(message.id, message);
          return;
        }
        this.log.warn(`server error: ${message.code}: ${message.message}`);
        this.safeEmit('message', message);
        return;
      default:
        this.safeEmit('message', message);
    }
  }

  private settle(id: number, reply: JoinedMessage | OkMessage | ErrorMessage): void {
    const request = this.pending.get(id);
    if (!request) {
      this.log.warn(`ignoring a ${reply.type} for unknown or expired request #${id}`);
      return;
    }
    this.pending.delete(id);
    clearTimeout(request.timer);
    if (reply.type === 'error') {
      request.reject(ConveneError.fromServer(reply));
    } else if (reply.type !== request.expect) {
      request.reject(new ConveneError('internal_error', `expected ${request.expect} for #${id}, got ${reply.type}`));
    } else {
      request.resolve(reply);
    }
  }

  private shutdown(reason: ConveneError | null, code?: number, closeReason?: string): void {
    if (this.currentState === 'closed') return;
    this.detachSocket?.();
    this.detachSocket = null;
    if (this.socket && code !== undefined) {
      try {
        this.socket.close(code, closeReason);
      } catch (error) {
        this.log.debug('socket.close threw', error);
      }
    }
    const failure = reason ?? ConveneError.closed('signaling connection');
    for (const [id, request] of this.pending) {
      clearTimeout(request.timer);
      this.pending.delete(id);
      request.reject(failure);
    }
    this.rejectConnect?.(failure);
    this.rejectConnect = null;
    this.setState('closed');
    this.safeEmit('closed', reason);
  }

  private setState(state: SignalingState): void {
    if (state === this.currentState) return;
    const previous = this.currentState;
    this.currentState = state;
    this.log.debug(`state ${previous} -> ${state}`);
    this.safeEmit('state-changed', state, previous);
  }
}
