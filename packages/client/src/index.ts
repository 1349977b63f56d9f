// Public API of @convene/client. apps/web uses only what is exported here.

// Room-name rules come from the protocol, so the UI can check a name before asking the server.
export { isValidRoomName, ROOM_NAME_PATTERN } from '@convene/protocol';
export { type EventMap, TypedEmitter } from './emitter.js';
export type { ClientEnvironment, MediaDevicesLike } from './environment.js';
export {
  type ClientErrorCode,
  ConveneError,
  isConveneError,
  MediaAccessError,
  type MediaErrorReason,
  mediaErrorReason,
} from './errors.js';
export { getLogger, type Logger, type LogLevel, type LogSink, setLogLevel, setLogSink } from './logger.js';
export { type DeviceList, LocalMedia, type LocalMediaEvents, type LocalMediaOptions, listDevices } from './media.js';
export { RemoteParticipant, type RemoteParticipantEvents } from './participant.js';
export { type JoinOptions, type LeaveReason, Room, type RoomEvents, type RoomState } from './room.js';
export type { ParticipantStats } from './stats.js';
