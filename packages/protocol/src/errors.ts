/**
 * Stable error codes carried by `error` messages. A code is never reused or renamed once
 * released; docs/errors.md describes each one. Human text (`message`) may change freely.
 */
export const ErrorCode = {
  /** The frame was not valid JSON (or not a JSON object). */
  InvalidJson: 'invalid_json',
  /** `type` is missing or not a message type the server knows. */
  UnknownType: 'unknown_type',
  /** The message has the right type but a field is missing, of the wrong type or out of range. */
  InvalidMessage: 'invalid_message',
  /** The client's protocol version is not one the server speaks. */
  UnsupportedVersion: 'unsupported_version',
  /** A message other than `join` arrived before the participant joined. */
  NotJoined: 'not_joined',
  /** `join` arrived on a connection that already joined. */
  AlreadyJoined: 'already_joined',
  /** The room name does not match the allowed pattern. */
  InvalidRoomName: 'invalid_room_name',
  /** The room already holds its maximum number of participants. */
  RoomFull: 'room_full',
  /** A `signal` named a participant that is not in the sender's room. */
  UnknownParticipant: 'unknown_participant',
  /** Too many messages in too little time; further excess closes the connection. */
  RateLimited: 'rate_limited',
  /** The server is shutting down and accepts no new participants. */
  ShuttingDown: 'shutting_down',
  /** Something went wrong inside the server; the request was not carried out. */
  Internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ALL_ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode);

/**
 * WebSocket close codes the server uses. 1000–1015 are RFC 6455's; 4000–4999 are ours.
 * A client decides from the close code whether rejoining can help.
 */
export const CloseCode = {
  /** Normal close: the participant left. */
  Normal: 1000,
  /** The server is going away (shutdown); the client may reconnect later. */
  GoingAway: 1001,
  /** A protocol violation severe enough to drop the connection. */
  ProtocolError: 1002,
  /** A frame exceeded the configured message size limit. */
  MessageTooBig: 1009,
  /** Unexpected server failure. */
  InternalError: 1011,
  /** The connection kept exceeding the rate limit after being warned. */
  RateLimited: 4001,
  /** No `join` arrived within the join timeout. */
  JoinTimeout: 4002,
  /** The peer stopped answering pings (detected by the server). */
  Unresponsive: 4003,
  /** The join was refused (see the preceding `error` message for the code). */
  JoinRefused: 4004,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
