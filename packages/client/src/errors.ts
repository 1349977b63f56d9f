import { CloseCode, ErrorCode } from '@convene/protocol';

/** Why the browser refused a camera or microphone. */
export type MediaErrorReason = 'denied' | 'not-found' | 'in-use' | 'insecure-context' | 'unknown';

/** Codes a client-side failure can carry: the server's stable codes, plus failures only the client sees. */
export type ClientErrorCode = ErrorCode | 'server_unreachable' | 'connection_lost' | 'join_timeout' | 'closed';

/**
 * The one error type the SDK rejects with or reports in `closed`. `code` is stable (switch on it,
 * translate it); `message` is for logs and may change.
 */
export class ConveneError extends Error {
  override readonly name = 'ConveneError';
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** An `error` message the server sent (a refused request or a problem with a message we sent). */
  static fromServer(error: { code: ErrorCode; message: string }): ConveneError {
    return new ConveneError(error.code, error.message);
  }

  /** The WebSocket could not be opened (wrong URL, server down, TLS or proxy problem). */
  static serverUnreachable(url: string, cause?: unknown): ConveneError {
    return new ConveneError('server_unreachable', `cannot reach the signaling server at ${url}`, { cause });
  }

  /** The connection dropped, or the server stopped answering. */
  static connectionLost(detail: string): ConveneError {
    return new ConveneError('connection_lost', `connection to the server lost: ${detail}`);
  }

  static joinTimeout(timeoutMs: number): ConveneError {
    return new ConveneError('join_timeout', `the server did not answer the join within ${timeoutMs} ms`);
  }

  /** The object was closed (by the user) before or while the operation ran. */
  static closed(what = 'connection'): ConveneError {
    return new ConveneError('closed', `the ${what} is closed`);
  }

  /**
   * Maps the close code of a socket that was open (see protocol CloseCode) to the reason the room
   * was lost. `lastServerError` is the `error` message that preceded the close, if any: a join
   * refusal (4004) carries its real code there.
   */
  static fromClose(code: number, reason: string, lastServerError?: ConveneError | null): ConveneError {
    const detail = `socket closed with ${code}${reason ? ` (${reason})` : ''}`;
    switch (code) {
      case CloseCode.GoingAway:
        return new ConveneError(ErrorCode.ShuttingDown, `the server is shutting down: ${detail}`);
      case CloseCode.ProtocolError:
      case CloseCode.MessageTooBig:
        return new ConveneError(ErrorCode.InvalidMessage, `the server rejected our messages: ${detail}`);
      case CloseCode.InternalError:
        return new ConveneError(ErrorCode.Internal, `the server failed: ${detail}`);
      case CloseCode.RateLimited:
        return new ConveneError(ErrorCode.RateLimited, `too many messages: ${detail}`);
      case CloseCode.JoinTimeout:
        return new ConveneError('join_timeout', `the server saw no join in time: ${detail}`);
      case CloseCode.JoinRefused:
        return lastServerError ?? new ConveneError(ErrorCode.Internal, `the join was refused: ${detail}`);
      default:
        // Normal (1000) without our leave, 1006 (no close frame), 4003 (unresponsive) and anything unknown:
        // the link is gone and rejoining may help.
        return ConveneError.connectionLost(detail);
    }
  }
}

export function isConveneError(error: unknown): error is ConveneError {
  return error instanceof ConveneError;
}

/**
 * A camera or microphone could not be acquired (switching device, turning the camera back on).
 * `LocalMedia.open` never throws it: it records the reason in `audioError`/`videoError` instead.
 */
export class MediaAccessError extends Error {
  override readonly name = 'MediaAccessError';
  readonly kind: 'audio' | 'video';
  readonly reason: MediaErrorReason;

  constructor(kind: 'audio' | 'video', reason: MediaErrorReason, options?: { cause?: unknown }) {
    super(`cannot use the ${kind === 'audio' ? 'microphone' : 'camera'}: ${reason}`, options);
    this.kind = kind;
    this.reason = reason;
  }

  static fromDomException(kind: 'audio' | 'video', cause: unknown): MediaAccessError {
    return new MediaAccessError(kind, mediaErrorReason(cause), { cause });
  }
}

/** Maps what getUserMedia rejected with (a DOMException, by name) to a reason the UI can explain. */
export function mediaErrorReason(error: unknown): MediaErrorReason {
  const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError': // pre-standard Chrome
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
    case 'DevicesNotFoundError': // pre-standard Chrome
      return 'not-found';
    case 'NotReadableError':
    case 'AbortError':
    case 'TrackStartError': // pre-standard Chrome
      return 'in-use';
    default:
      return 'unknown';
  }
}
