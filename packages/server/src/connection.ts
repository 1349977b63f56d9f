import { randomBytes } from 'node:crypto';
import {
  type ClientMessage,
  CloseCode,
  ErrorCode,
  isValidRoomName,
  type JoinMessage,
  type ParticipantInfo,
  type ParticipantLeftReason,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
  type SignalMessage,
  type UpdateMessage,
} from '@convene/protocol';
import { type RawData, WebSocket } from 'ws';
import type { Config } from './config.js';
import { closeCodeFor, JoinRefusedError, RequestError, SignalingError } from './errors.js';
import { TypedEmitter } from './events.js';
import type { IceServerSource } from './iceServers.js';
import type { Logger } from './logger.js';
import { type ByeReason, Participant } from './participant.js';
import { type Clock, RateLimiter } from './rateLimiter.js';
import type { Room, RoomRegistry } from './room.js';

// ---------------------------------------------------------------- state machine

export type ConnectionState = 'awaiting-join' | 'joined' | 'closed';

const LEGAL_TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  'awaiting-join': ['joined', 'closed'],
  joined: ['closed'],
  closed: [],
};

export class IllegalTransitionError extends Error {
  readonly from: ConnectionState;
  readonly to: ConnectionState;

  constructor(from: ConnectionState, to: ConnectionState) {
    super(`illegal connection state transition ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
    this.from = from;
    this.to = to;
  }
}

/** Pure check of one state change; `undefined` when it is legal. */
export function checkConnectionTransition(
  from: ConnectionState,
  to: ConnectionState,
): IllegalTransitionError | undefined {
  return LEGAL_TRANSITIONS[from].includes(to) ? undefined : new IllegalTransitionError(from, to);
}

// ---------------------------------------------------------------- connection

/** What a connection needs from the server that owns it. */
export interface ConnectionContext {
  readonly config: Readonly<Config>;
  /** Mints each participant's ICE servers (TURN credentials) at join and on renewal. */
  readonly iceServers: IceServerSource;
  readonly rooms: RoomRegistry;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly counters: { messagesIn: number; messagesOut: number };
  isShuttingDown(): boolean;
}

export type ConnectionEvents = {
  statechange: [state: ConnectionState, previous: ConnectionState];
  /** The socket is closed and every timer stopped. Emitted once. */
  close: [];
};

/** After the server sends a close frame, how long the peer gets to answer before the socket is cut. */
const CLOSE_GRACE_MS = 1_000;
/** A client that stops reading while others keep sending to it must not grow server memory for long. */
const MIN_SEND_BUFFER_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * One WebSocket, from upgrade to close: awaiting-join → joined → closed. It turns frames into
 * calls on the room and its participant, and decides what happens to the socket.
 * No exception leaves a handler: request errors are answered, anything else becomes
 * `internal_error` (logged) and the connection keeps serving.
 */
export class Connection extends TypedEmitter<ConnectionEvents> {
  readonly #socket: WebSocket;
  readonly #context: ConnectionContext;
  readonly #rateLimiter: RateLimiter;
  readonly #sendBufferLimit: number;
  #logger: Logger;
  #state: ConnectionState = 'awaiting-join';
  #participant: Participant | undefined;
  #room: Room | undefined;
  #joinTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #livenessTimer: NodeJS.Timeout | undefined;
  #terminateTimer: NodeJS.Timeout | undefined;
  #iceRenewalTimer: NodeJS.Timeout | undefined;
  #closeScheduled = false;
  /** The Host header of the upgrade: the name this client reaches us by (for TURN URLs). */
  readonly #requestHost: string | undefined;

  constructor(socket: WebSocket, context: ConnectionContext, requestHost?: string) {
    super(context.logger);
    this.#socket = socket;
    this.#context = context;
    this.#requestHost = requestHost;
    this.#logger = context.logger;
    const { config } = context;
    this.#rateLimiter = new RateLimiter({
      ratePerSecond: config.rateLimitPerSecond,
      burst: config.rateLimitBurst,
      clock: context.clock,
    });
    this.#sendBufferLimit = Math.max(MIN_SEND_BUFFER_LIMIT_BYTES, 64 * config.maxMessageBytes);

    socket.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    socket.on('pong', () => this.#sawSignOfLife());
    socket.on('error', (error) => this.#logger.debug({ err: error }, 'socket error'));
    socket.on('close', (code) => this.#onSocketClosed(code));

    this.#joinTimer = setTimeout(() => this.#onJoinTimeout(), config.joinTimeoutMs).unref();
    this.#pingTimer = setInterval(() => this.#ping(), config.pingIntervalMs).unref();
    this.#livenessTimer = setTimeout(() => this.#onUnresponsive(), config.pingTimeoutMs).unref();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get participant(): Participant | undefined {
    return this.#participant;
  }

  /** Server shutdown, for a connection that has not joined (joined ones are reached through their room). */
  shutdown(): void {
    if (this.#state === 'awaiting-join') this.#close(CloseCode.GoingAway, 'server shutting down');
  }

  /** Cuts the socket without a close handshake (end of a shutdown that waited long enough). */
  terminate(): void {
    this.#socket.terminate();
  }

  // ------------------------------------------------------------ inbound

  #onFrame(data: RawData, isBinary: boolean): void {
    if (this.#state === 'closed') return;
    this.#context.counters.messagesIn += 1;
    this.#sawSignOfLife();
    try {
      switch (this.#rateLimiter.take()) {
        case 'accept':
          break;
        case 'warn':
          this.#logger.debug('rate limited');
          this.#sendError(
            ErrorCode.RateLimited,
            'too many messages: this one and any more above the limit are dropped',
          );
          return;
        case 'drop':
          return;
        case 'close':
          this.#logger.info('closing a connection that kept flooding after the rate-limit warning');
          this.#close(CloseCode.RateLimited, 'rate limit exceeded');
          return;
      }
      if (isBinary) {
        this.#sendError(ErrorCode.InvalidMessage, 'binary frames are not supported; send JSON text');
        return;
      }
      const parsed = parseClientMessage(rawDataToString(data));
      if (!parsed.ok) {
        this.#logger.debug({ code: parsed.code }, 'invalid message');
        this.#sendError(parsed.code, parsed.message, parsed.id);
        return;
      }
      this.#logger.trace({ type: parsed.message.type }, 'message');
      this.#dispatch(parsed.message);
    } catch (error) {
      this.#answerFailure(error, undefined);
    }
  }

  #dispatch(message: ClientMessage): void {
    try {
      switch (message.type) {
        case 'join':
          this.#join(message);
          break;
        case 'update':
          this.#update(message);
          break;
        case 'signal':
          this.#signal(message);
          break;
        case 'leave':
          this.#leave();
          break;
      }
    } catch (error) {
      this.#answerFailure(error, 'id' in message ? message.id : undefined);
    }
  }

  /** The error class decides: answer and keep serving, or answer and close (see errors.ts). */
  #answerFailure(error: unknown, requestId: number | undefined): void {
    if (error instanceof SignalingError) {
      this.#logger.debug({ code: error.code }, 'request refused');
      this.#sendError(error.code, error.message, error.requestId);
      const closeCode = closeCodeFor(error);
      if (closeCode !== undefined) this.#close(closeCode, error.code);
      return;
    }
    this.#logger.error({ err: error }, 'unexpected error while handling a message');
    this.#sendError(ErrorCode.Internal, 'internal server error; the request was not carried out', requestId);
  }

  // ------------------------------------------------------------ requests

  #join(message: JoinMessage): void {
    if (this.#state === 'joined') throw RequestError.alreadyJoined(message.id);
    if (message.version !== PROTOCOL_VERSION) {
      throw JoinRefusedError.unsupportedVersion(message.id, message.version, PROTOCOL_VERSION);
    }
    if (!isValidRoomName(message.room)) throw JoinRefusedError.invalidRoomName(message.id);
    if (this.#context.isShuttingDown()) throw JoinRefusedError.shuttingDown(message.id);
    const { rooms, config } = this.#context;
    if (rooms.get(message.room)?.isFull) throw JoinRefusedError.roomFull(message.id, config.maxParticipants);

    const room = rooms.getOrCreate(message.room);
    const participantId = newParticipantId(room);
    const participant = new Participant({
      id: participantId,
      resumeToken: randomBytes(32).toString('base64url'),
      name: message.name,
      audioMuted: message.audioMuted,
      videoMuted: message.videoMuted,
      joinedAt: Date.now(),
      sink: (frame) => this.#sendFrame(frame),
      logger: room.logger.child({ participant: participantId }),
    });
    try {
      room.admit(participant, (others) => this.#sendJoined(message.id, room, participant, others));
    } catch (error) {
      room.closeIfEmpty();
      throw error;
    }
    participant.on('roomclose', (reason) => this.#onRoomClosed(reason));
    this.#participant = participant;
    this.#room = room;
    this.#logger = participant.logger;
    clearTimeout(this.#joinTimer);
    this.#setState('joined');
  }

  #sendJoined(requestId: number, room: Room, participant: Participant, others: ParticipantInfo[]): void {
    const { config } = this.#context;
    const grant = this.#context.iceServers.grant(participant.id, this.#requestHost);
    this.#scheduleIceRenewal(participant, grant.renewInMs);
    this.#send({
      type: 'joined',
      id: requestId,
      version: PROTOCOL_VERSION,
      participantId: participant.id,
      resumeToken: participant.resumeToken,
      iceServers: grant.iceServers,
      room: { name: room.name, mode: room.mode, participants: others },
      self: participant.info(),
      limits: { maxMessageBytes: config.maxMessageBytes, maxParticipants: config.maxParticipants },
    });
  }

  /** TURN credentials expire: send fresh ones before they do, for as long as the participant stays. */
  #scheduleIceRenewal(participant: Participant, renewInMs: number | null): void {
    if (renewInMs === null) return;
    this.#iceRenewalTimer = setTimeout(() => {
      if (this.#state !== 'joined') return;
      const grant = this.#context.iceServers.grant(participant.id, this.#requestHost);
      this.#send({ type: 'ice-servers', iceServers: grant.iceServers });
      this.#scheduleIceRenewal(participant, grant.renewInMs);
    }, renewInMs).unref();
  }

  #update(message: UpdateMessage): void {
    const { participant, room } = this.#requireJoined(message.id);
    const changed = participant.update(message);
    this.#send({ type: 'ok', id: message.id });
    if (changed) room.broadcast({ type: 'participant-updated', participant: participant.info() }, participant);
  }

  /** Relays to a participant of the sender's own room only; the payload is opaque to the server. */
  #signal(message: SignalMessage): void {
    const { participant, room } = this.#requireJoined(undefined);
    const target = room.getParticipant(message.to);
    if (target === undefined || target === participant) throw RequestError.unknownParticipant();
    target.send({ type: 'signal', from: participant.id, data: message.data });
  }

  #leave(): void {
    const { participant } = this.#requireJoined(undefined);
    participant.close('left');
    this.#close(CloseCode.Normal, 'left');
  }

  #requireJoined(requestId: number | undefined): { participant: Participant; room: Room } {
    if (this.#state !== 'joined' || !this.#participant || !this.#room) throw RequestError.notJoined(requestId);
    return { participant: this.#participant, room: this.#room };
  }

  // ------------------------------------------------------------ outbound

  #send(message: ServerMessage): void {
    this.#sendFrame(JSON.stringify(message));
  }

  #sendError(code: ErrorCode, message: string, requestId?: number): void {
    this.#send(
      requestId === undefined ? { type: 'error', code, message } : { type: 'error', id: requestId, code, message },
    );
  }

  #sendFrame(frame: string): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    if (this.#socket.bufferedAmount > this.#sendBufferLimit) {
      // The client is not reading; queueing more would only grow memory until liveness catches it.
      // Closed on the next turn: we may be in the middle of a broadcast to its room.
      if (!this.#closeScheduled) {
        this.#closeScheduled = true;
        this.#logger.info(
          { bufferedBytes: this.#socket.bufferedAmount },
          'client is not reading its messages; dropping it',
        );
        setImmediate(() => this.#close(CloseCode.Unresponsive, 'not reading', 'unresponsive'));
      }
      return;
    }
    this.#socket.send(frame);
    this.#context.counters.messagesOut += 1;
  }

  // ------------------------------------------------------------ liveness and closing

  #ping(): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    try {
      this.#socket.ping();
    } catch (error) {
      this.#logger.debug({ err: error }, 'ping failed');
    }
  }

  /** Any pong or message proves the peer is alive and pushes the liveness deadline back. */
  #sawSignOfLife(): void {
    this.#livenessTimer?.refresh();
  }

  #onUnresponsive(): void {
    this.#logger.info({ timeoutMs: this.#context.config.pingTimeoutMs }, 'no sign of life; dropping the connection');
    this.#close(CloseCode.Unresponsive, 'unresponsive', 'unresponsive');
  }

  #onJoinTimeout(): void {
    if (this.#state !== 'awaiting-join') return;
    this.#logger.debug('no join in time');
    this.#close(CloseCode.JoinTimeout, 'join timeout');
  }

  #onRoomClosed(reason: ByeReason): void {
    this.#send({ type: 'bye', reason });
    this.#close(CloseCode.GoingAway, 'server shutting down');
  }

  /**
   * Server-initiated close. The participant (if any) leaves first, so the others hear about it
   * right away, not after the close handshake.
   */
  #close(code: CloseCode, reason: string, leftReason: ParticipantLeftReason = 'disconnected'): void {
    if (this.#state === 'closed') return;
    this.#participant?.close(leftReason);
    this.#setState('closed');
    this.#stopTimers();
    try {
      this.#socket.close(code, reason);
    } catch (error) {
      this.#logger.debug({ err: error }, 'close failed; terminating');
      this.#socket.terminate();
      return;
    }
    this.#terminateTimer = setTimeout(() => this.#socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  #onSocketClosed(code: number): void {
    // A socket that closes without `leave` (tab closed, network gone) leaves right now.
    this.#participant?.close('disconnected');
    this.#setState('closed');
    this.#stopTimers();
    clearTimeout(this.#terminateTimer);
    this.#logger.debug({ code }, 'socket closed');
    this.safeEmit('close');
    this.removeAllListeners();
  }

  #stopTimers(): void {
    clearTimeout(this.#joinTimer);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#livenessTimer);
    clearTimeout(this.#iceRenewalTimer);
  }

  /** The one setter for the connection state: ignores no-ops, rejects illegal moves, logs, emits. */
  #setState(next: ConnectionState): void {
    const previous = this.#state;
    if (previous === next) return;
    const illegal = checkConnectionTransition(previous, next);
    if (illegal) throw illegal;
    this.#state = next;
    this.#logger.debug(`connection ${previous} -> ${next}`);
    this.safeEmit('statechange', next, previous);
  }
}

/** 9 random bytes, base64url: 12 URL-safe characters, unguessable, unique within the room. */
function newParticipantId(room: Room): string {
  for (;;) {
    const id = randomBytes(9).toString('base64url');
    if (!room.has(id)) return id;
  }
}

function rawDataToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
