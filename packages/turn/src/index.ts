// STUN message codec (RFC 8489), sans-IO. The TURN server core comes next (see README.md).

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
