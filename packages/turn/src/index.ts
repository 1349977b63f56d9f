// STUN/TURN server (RFC 8489, RFC 8656): a sans-IO core, a Node socket layer, TURN REST credentials.

export {
  checkRestUsername,
  DEFAULT_CREDENTIAL_TTL_SECONDS,
  MAX_CREDENTIAL_TTL_SECONDS,
  mintRestCredentials,
  type RestUsernameProblem,
  restPassword,
  type TurnRestCredentials,
} from './auth/rest-credentials.js';
export {
  DEFAULT_STREAM_LIMITS,
  interfaceAddresses,
  type TurnListenerInfo,
  type TurnLogger,
  TurnServer,
  type TurnServerOptions,
  type TurnStreamLimits,
} from './node/turn-server.js';
export {
  PeerAddressPolicy,
  type PeerAddressPolicyOptions,
  type PeerDenialReason,
} from './policy/peer-address-policy.js';
export type { ClientLink, RelayHandle } from './server/allocation.js';
export { type AuthenticationResult, RestSecretAuthenticator, type TurnAuthenticator } from './server/authenticator.js';
export {
  DEFAULT_TURN_LIMITS,
  TURN_ERROR_REASONS,
  type TurnCoreEvent,
  type TurnCoreLimits,
  type TurnCoreOptions,
  type TurnCoreOutput,
  TurnServerCore,
} from './server/core.js';
export type { TurnCounters } from './server/counters.js';

export type { StunAddress, StunErrorCode } from './stun/attributes.js';
export { type BuildOptions, newTransactionId, StunMessageBuilder } from './stun/builder.js';
export {
  AttributeType,
  FINGERPRINT_XOR,
  HEADER_LENGTH,
  isComprehensionRequired,
  MAGIC_COOKIE,
  MAX_TEXT_CHARS,
  MAX_USERNAME_BYTES,
  StunClass,
  StunMethod,
  TRANSACTION_ID_LENGTH,
} from './stun/constants.js';
export {
  StunEncodeError,
  type StunEncodeReason,
  StunParseError,
  type StunParseReason,
  TurnError,
} from './stun/errors.js';
export { longTermKey, shortTermKey, verifyFingerprint, verifyMessageIntegrity } from './stun/integrity.js';
export { formatIp, parseIp } from './stun/ip.js';
export { decodeStunMessage, isStunMessage, type StunAttribute, StunMessage } from './stun/message.js';
export { decodeMessageType, encodeMessageType } from './stun/message-type.js';
