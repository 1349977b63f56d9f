/** RFC 8489 §5: fixed value in bytes 4-7 of every STUN message (distinguishes it from RFC 3489 STUN). */
export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_LENGTH = 20;
export const TRANSACTION_ID_LENGTH = 12;
/** RFC 8489 §14.7: the CRC-32 is XORed with this so FINGERPRINT cannot collide with other protocols' CRCs. */
export const FINGERPRINT_XOR = 0x5354554e;

/** The two class bits (C1 C0) of the message type, RFC 8489 §5. */
export const StunClass = {
  Request: 0b00,
  Indication: 0b01,
  SuccessResponse: 0b10,
  ErrorResponse: 0b11,
} as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** Methods we know. Binding is RFC 8489; the rest are TURN (RFC 8656). */
export const StunMethod = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
} as const;
export type StunMethod = (typeof StunMethod)[keyof typeof StunMethod];

/** Attribute types this package understands: STUN (RFC 8489 §18.3) and TURN (RFC 8656 §18). */
export const AttributeType = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  EvenPort: 0x0018,
  RequestedTransport: 0x0019,
  DontFragment: 0x001a,
  MessageIntegritySha256: 0x001c,
  PasswordAlgorithm: 0x001d,
  Userhash: 0x001e,
  XorMappedAddress: 0x0020,
  ReservationToken: 0x0022,
  AdditionalAddressFamily: 0x8000,
  AddressErrorCode: 0x8001,
  PasswordAlgorithms: 0x8002,
  AlternateDomain: 0x8003,
  Icmp: 0x8004,
  Software: 0x8022,
  AlternateServer: 0x8023,
  Fingerprint: 0x8028,
} as const;
export type AttributeType = (typeof AttributeType)[keyof typeof AttributeType];

/** 0x0000-0x7FFF must be understood; an unknown one there earns a 420 (RFC 8489 §14). */
export function isComprehensionRequired(type: number): boolean {
  return type >= 0 && type <= 0x7fff;
}

// RFC 8489 §14.3-14.9 size limits, enforced on encode and decode so a peer cannot make us hold big strings.
/** USERNAME: "fewer than 509 bytes" of UTF-8. */
export const MAX_USERNAME_BYTES = 508;
/** REALM, NONCE, SOFTWARE, ERROR-CODE reason: "fewer than 128 characters" (Unicode code points). */
export const MAX_TEXT_CHARS = 127;

/** REQUESTED-TRANSPORT protocol numbers (RFC 8656 §18.7): only UDP relays exist here. */
export const TRANSPORT_UDP = 17;
/** REQUESTED-ADDRESS-FAMILY values (RFC 8656 §18.8), the same codes as the address attributes. */
export const AddressFamilyCode = { IPv4: 0x01, IPv6: 0x02 } as const;
/**
 * ChannelData channel numbers. RFC 8656 §12 narrowed them to 0x4000-0x4FFF, but RFC 5766 allowed
 * 0x4000-0x7FFF and clients still pick from all of it (coturn's turnutils_uclient does); we accept
 * the old range, as coturn does. Browsers count up from 0x4000.
 */
export const MIN_CHANNEL_NUMBER = 0x4000;
export const MAX_CHANNEL_NUMBER = 0x7fff;
