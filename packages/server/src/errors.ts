import { CloseCode, ErrorCode } from '@convene/protocol';

/**
 * Base of every error the signaling layer answers on purpose. `code` is the stable wire code
 * (docs/errors.md); `message` is human text and may change. The subclass decides what happens
 * to the connection (see `closeCodeFor`).
 */
export abstract class SignalingError extends Error {
  readonly code: ErrorCode;
  /** The request this error answers, when the failing message was a request. */
  readonly requestId: number | undefined;

  protected constructor(code: ErrorCode, message: string, requestId: number | undefined) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.requestId = requestId;
  }
}

/** The request is refused; the connection stays usable. */
export class RequestError extends SignalingError {
  static notJoined(requestId?: number): RequestError {
    return new RequestError(ErrorCode.NotJoined, 'join a room first', requestId);
  }

  static alreadyJoined(requestId: number): RequestError {
    return new RequestError(ErrorCode.AlreadyJoined, 'this connection already joined a room', requestId);
  }

  /** Same answer whether the id never existed, left, or is in another room: no probing across rooms. */
  static unknownParticipant(): RequestError {
    return new RequestError(ErrorCode.UnknownParticipant, 'no such participant in your room', undefined);
  }

  static invalidMessage(message: string, requestId?: number): RequestError {
    return new RequestError(ErrorCode.InvalidMessage, message, requestId);
  }
}

export type JoinRefusalReason = 'unsupported-version' | 'invalid-room-name' | 'room-full' | 'shutting-down';

/** The join is refused: the error is sent, then the connection is closed with 4004. */
export class JoinRefusedError extends SignalingError {
  readonly reason: JoinRefusalReason;

  private constructor(reason: JoinRefusalReason, code: ErrorCode, message: string, requestId: number) {
    super(code, message, requestId);
    this.reason = reason;
  }

  static unsupportedVersion(requestId: number, clientVersion: number, serverVersion: number): JoinRefusedError {
    return new JoinRefusedError(
      'unsupported-version',
      ErrorCode.UnsupportedVersion,
      `protocol version ${clientVersion} is not supported; this server speaks version ${serverVersion}`,
      requestId,
    );
  }

  static invalidRoomName(requestId: number): JoinRefusedError {
    return new JoinRefusedError(
      'invalid-room-name',
      ErrorCode.InvalidRoomName,
      'room names are 1-64 lower-case letters, digits, "-" or "_", starting and ending with a letter or digit',
      requestId,
    );
  }

  static roomFull(requestId: number, maxParticipants: number): JoinRefusedError {
    return new JoinRefusedError(
      'room-full',
      ErrorCode.RoomFull,
      `the room is full (at most ${maxParticipants} participants)`,
      requestId,
    );
  }

  static shuttingDown(requestId: number): JoinRefusedError {
    return new JoinRefusedError(
      'shutting-down',
      ErrorCode.ShuttingDown,
      'the server is shutting down; try again shortly',
      requestId,
    );
  }
}

/**
 * The error class picks what happens to the connection: request errors keep it open, join
 * refusals close it with 4004. Anything else is a server bug: it is answered with
 * `internal_error` and the connection stays (one bad message must not drop a call).
 */
export function closeCodeFor(error: unknown): CloseCode | undefined {
  return error instanceof JoinRefusedError ? CloseCode.JoinRefused : undefined;
}

/** A configuration problem: the CLI prints `problems` and exits with code 2. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      problems.length === 1
        ? `invalid configuration: ${problems[0]}`
        : `invalid configuration:\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
