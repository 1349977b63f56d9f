import * as v from 'valibot';
import { ErrorCode } from './errors.js';
import { LIMITS } from './limits.js';

/** Bumped on any incompatible change to the messages below. */
export const PROTOCOL_VERSION = 1;

/** Lower-case letters, digits and inner hyphens/underscores: safe in a URL path and a log line. */
export const ROOM_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$/;

export const RoomNameSchema = v.pipe(v.string(), v.regex(ROOM_NAME_PATTERN, 'invalid room name'));
const DisplayNameSchema = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, 'name is empty'),
  v.maxLength(LIMITS.displayNameMaxChars, 'name is too long'),
);
const ParticipantIdSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
const RequestIdSchema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));

export const ParticipantInfoSchema = v.object({
  id: ParticipantIdSchema,
  name: v.string(),
  audioMuted: v.boolean(),
  videoMuted: v.boolean(),
  /** Milliseconds since the Unix epoch, server clock. */
  joinedAt: v.number(),
});
export type ParticipantInfo = v.InferOutput<typeof ParticipantInfoSchema>;

export const IceServerSchema = v.object({
  urls: v.union([v.string(), v.array(v.string())]),
  username: v.optional(v.string()),
  credential: v.optional(v.string()),
});
export type IceServer = v.InferOutput<typeof IceServerSchema>;

export const RoomModeSchema = v.picklist(['mesh']);
export type RoomMode = v.InferOutput<typeof RoomModeSchema>;

/** An SDP description, as RTCSessionDescriptionInit. */
const DescriptionSchema = v.object({
  type: v.picklist(['offer', 'answer', 'pranswer', 'rollback']),
  sdp: v.pipe(v.string(), v.maxLength(LIMITS.sdpMaxChars)),
});
/** A trickled ICE candidate, as RTCIceCandidateInit; `null` marks end of candidates. */
const CandidateSchema = v.nullable(
  v.object({
    candidate: v.pipe(v.string(), v.maxLength(1024)),
    sdpMid: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(64)))),
    sdpMLineIndex: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1023)))),
    usernameFragment: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(256)))),
  }),
);
const CandidateDataSchema = v.strictObject({ candidate: CandidateSchema });
const DescriptionDataSchema = v.strictObject({ description: DescriptionSchema });
// Exactly one of the two, chosen by its key: a union would run the other branch first for half the
// kinds and build issue objects for it (at 15,000 relayed messages/s, 11% of the server's
// allocations went there).
export const SignalDataSchema = v.lazy((input) =>
  typeof input === 'object' && input !== null && 'description' in input ? DescriptionDataSchema : CandidateDataSchema,
);
export type SignalData = v.InferOutput<typeof SignalDataSchema>;

// ---------------------------------------------------------------- client → server

export const JoinSchema = v.object({
  type: v.literal('join'),
  id: RequestIdSchema,
  version: v.pipe(v.number(), v.integer()),
  room: v.string(), // pattern checked separately so the error says invalid_room_name
  name: DisplayNameSchema,
  token: v.optional(v.pipe(v.string(), v.maxLength(4096))),
  audioMuted: v.boolean(),
  videoMuted: v.boolean(),
});
export const UpdateSchema = v.object({
  type: v.literal('update'),
  id: RequestIdSchema,
  name: v.optional(DisplayNameSchema),
  audioMuted: v.optional(v.boolean()),
  videoMuted: v.optional(v.boolean()),
});
export const SignalSchema = v.object({
  type: v.literal('signal'),
  to: ParticipantIdSchema,
  data: SignalDataSchema,
});
export const LeaveSchema = v.object({ type: v.literal('leave') });

// Signal first: valibot's variant tries the options' `type` literals in order and builds an issue
// object for every one that does not match, and almost every message is a signal.
export const ClientMessageSchema = v.variant('type', [SignalSchema, JoinSchema, UpdateSchema, LeaveSchema]);
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;
export type JoinMessage = v.InferOutput<typeof JoinSchema>;
export type UpdateMessage = v.InferOutput<typeof UpdateSchema>;
export type SignalMessage = v.InferOutput<typeof SignalSchema>;
export type LeaveMessage = v.InferOutput<typeof LeaveSchema>;
export const CLIENT_MESSAGE_TYPES = ['join', 'update', 'signal', 'leave'] as const;

// ---------------------------------------------------------------- server → client

export const JoinedSchema = v.object({
  type: v.literal('joined'),
  id: RequestIdSchema,
  version: v.number(),
  participantId: ParticipantIdSchema,
  /** Secret that lets this participant resume its place after a dropped socket (later versions). */
  resumeToken: v.string(),
  iceServers: v.array(IceServerSchema),
  room: v.object({
    name: v.string(),
    mode: RoomModeSchema,
    /** Everyone already in the room, without the newcomer. */
    participants: v.array(ParticipantInfoSchema),
  }),
  self: ParticipantInfoSchema,
  limits: v.object({
    maxMessageBytes: v.number(),
    maxParticipants: v.number(),
  }),
});
const KNOWN_ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));
export const OkSchema = v.object({ type: v.literal('ok'), id: RequestIdSchema });
export const ErrorSchema = v.object({
  type: v.literal('error'),
  /** The request this answers; absent for errors about messages without an id (`signal`, bad JSON). */
  id: v.optional(RequestIdSchema),
  // A code this version does not know (a newer server) reads as internal_error rather than making
  // the whole message unreadable; the server's `message` still says what happened.
  code: v.pipe(
    v.string(),
    v.transform((code): ErrorCode => (KNOWN_ERROR_CODES.has(code) ? (code as ErrorCode) : ErrorCode.Internal)),
  ),
  message: v.string(),
});
export const ParticipantJoinedSchema = v.object({
  type: v.literal('participant-joined'),
  participant: ParticipantInfoSchema,
});
export const ParticipantLeftSchema = v.object({
  type: v.literal('participant-left'),
  participantId: ParticipantIdSchema,
  reason: v.picklist(['left', 'disconnected', 'unresponsive']),
});
export const ParticipantUpdatedSchema = v.object({
  type: v.literal('participant-updated'),
  participant: ParticipantInfoSchema,
});
export const SignalRelaySchema = v.object({
  type: v.literal('signal'),
  from: ParticipantIdSchema,
  data: SignalDataSchema,
});
/**
 * Fresh ICE servers (new TURN credentials) before the ones from `joined` expire. Connections already
 * up keep working (TURN allocations outlive their credentials); new ones use these.
 */
export const IceServersSchema = v.object({
  type: v.literal('ice-servers'),
  iceServers: v.array(IceServerSchema),
});
export const ByeSchema = v.object({
  type: v.literal('bye'),
  reason: v.picklist(['shutdown']),
});

export const ServerMessageSchema = v.variant('type', [
  JoinedSchema,
  OkSchema,
  ErrorSchema,
  ParticipantJoinedSchema,
  ParticipantLeftSchema,
  ParticipantUpdatedSchema,
  SignalRelaySchema,
  IceServersSchema,
  ByeSchema,
]);
export type ServerMessage = v.InferOutput<typeof ServerMessageSchema>;
export type JoinedMessage = v.InferOutput<typeof JoinedSchema>;
export type ErrorMessage = v.InferOutput<typeof ErrorSchema>;
export type IceServersMessage = v.InferOutput<typeof IceServersSchema>;
export type ParticipantLeftReason = v.InferOutput<typeof ParticipantLeftSchema>['reason'];

// ---------------------------------------------------------------- parsing

export type ParseResult<T> = { ok: true; message: T } | { ok: false; code: ErrorCode; message: string; id?: number };

const CLIENT_TYPES = new Set<string>(CLIENT_MESSAGE_TYPES);

/**
 * Parses one client frame. Never throws: every failure maps to a stable error code and keeps
 * the request id when one could be read, so the error can answer that request.
 */
export function parseClientMessage(text: string): ParseResult<ClientMessage> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const raw = json.value;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, code: ErrorCode.InvalidJson, message: 'frame is not a JSON object' };
  }
  const record = raw as Record<string, unknown>;
  const id = typeof record.id === 'number' && Number.isSafeInteger(record.id) && record.id >= 0 ? record.id : undefined;
  const type = record.type;
  if (typeof type !== 'string' || !CLIENT_TYPES.has(type)) {
    return withId({ ok: false, code: ErrorCode.UnknownType, message: `unknown message type` }, id);
  }
  const result = v.safeParse(ClientMessageSchema, raw);
  if (!result.success) {
    return withId({ ok: false, code: ErrorCode.InvalidMessage, message: describeIssue(type, result.issues) }, id);
  }
  return { ok: true, message: result.output };
}

/** Parses one server frame on the client. Unknown types are reported, not thrown, so old clients survive new servers. */
export function parseServerMessage(text: string): ParseResult<ServerMessage> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const result = v.safeParse(ServerMessageSchema, json.value);
  if (!result.success) {
    return { ok: false, code: ErrorCode.InvalidMessage, message: describeIssue('server message', result.issues) };
  }
  return { ok: true, message: result.output };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; code: ErrorCode; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, code: ErrorCode.InvalidJson, message: 'frame is not valid JSON' };
  }
}

function withId<T>(result: ParseResult<T> & { ok: false }, id: number | undefined): ParseResult<T> {
  return id === undefined ? result : { ...result, id };
}

function describeIssue(type: string, issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  if (!issue) return `invalid ${type}`;
  const path = v.getDotPath(issue);
  return `invalid ${type}${path ? ` at ${path}` : ''}: ${issue.message}`;
}

export function isValidRoomName(name: string): boolean {
  return ROOM_NAME_PATTERN.test(name);
}
