import {
  encodeAddress,
  encodeErrorCode,
  encodeText,
  encodeUnknownAttributes,
  type StunAddress,
  type StunErrorCode,
} from './attributes.js';
import { copyBytes } from './bytes.js';
import { AttributeType, HEADER_LENGTH, MAGIC_COOKIE, type StunClass, TRANSACTION_ID_LENGTH } from './constants.js';
import { StunEncodeError } from './errors.js';
import { computeFingerprint, computeMessageIntegrity } from './integrity.js';
import { padded } from './message.js';
import { encodeMessageType } from './message-type.js';

export interface BuildOptions {
  /** Append MESSAGE-INTEGRITY (HMAC-SHA1) with this key: see longTermKey / shortTermKey. */
  integrityKey?: Uint8Array;
  /** Append FINGERPRINT, always last. */
  fingerprint?: boolean;
}

// Only build() may write these, so they always come last and in the RFC order.
const TRAILERS: ReadonlySet<number> = new Set([
  AttributeType.MessageIntegrity,
  AttributeType.MessageIntegritySha256,
  AttributeType.Fingerprint,
]);
const MAX_BODY = 0xffff;

/**
 * Writes a STUN message: header, attributes in the order added (zero-padded to 4 bytes), then
 * optionally MESSAGE-INTEGRITY and FINGERPRINT. No SOFTWARE helper: we never send it (SECURITY.md).
 */
export class StunMessageBuilder {
  private readonly attributes: { type: number; value: Uint8Array }[] = [];
  private readonly transactionId: Uint8Array;

  constructor(
    private readonly cls: StunClass,
    private readonly method: number,
    transactionId: Uint8Array,
  ) {
    if (transactionId.length !== TRANSACTION_ID_LENGTH) throw StunEncodeError.badTransactionId(transactionId.length);
    encodeMessageType(cls, method); // validates the method now rather than at build()
    this.transactionId = copyBytes(transactionId);
  }

  /** Any attribute as raw value bytes (e.g. PRIORITY for ICE, or TURN ones until they get helpers). */
  add(type: number, value: Uint8Array): this {
    if (!Number.isInteger(type) || type < 0 || type > 0xffff)
      throw StunEncodeError.badAttributeType(type, 'not 16-bit');
    if (TRAILERS.has(type)) throw StunEncodeError.badAttributeType(type, 'integrity and fingerprint come from build()');
    if (value.length > MAX_BODY) throw StunEncodeError.valueTooLong(`attribute 0x${type.toString(16)}`, '65535 bytes');
    this.attributes.push({ type, value: copyBytes(value) });
    return this;
  }

  xorMappedAddress(address: StunAddress): this {
    return this.add(AttributeType.XorMappedAddress, encodeAddress(address, this.transactionId));
  }

  mappedAddress(address: StunAddress): this {
    return this.add(AttributeType.MappedAddress, encodeAddress(address));
  }

  xorPeerAddress(address: StunAddress): this {
    return this.add(AttributeType.XorPeerAddress, encodeAddress(address, this.transactionId));
  }

  xorRelayedAddress(address: StunAddress): this {
    return this.add(AttributeType.XorRelayedAddress, encodeAddress(address, this.transactionId));
  }

  /** LIFETIME in whole seconds. */
  lifetime(seconds: number): this {
    return this.add(AttributeType.Lifetime, uint32Value(seconds, 'LIFETIME'));
  }

  channelNumber(channel: number): this {
    if (!Number.isInteger(channel) || channel < 0 || channel > 0xffff) {
      throw StunEncodeError.badValue(`channel number ${channel} is not 16-bit`);
    }
    return this.add(AttributeType.ChannelNumber, Uint8Array.of(channel >> 8, channel & 0xff, 0, 0));
  }

  /** REQUESTED-TRANSPORT: a protocol number (17 = UDP) and three reserved bytes. */
  requestedTransport(protocol: number): this {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 0xff) {
      throw StunEncodeError.badValue(`protocol ${protocol} is not 8-bit`);
    }
    return this.add(AttributeType.RequestedTransport, Uint8Array.of(protocol, 0, 0, 0));
  }

  data(bytes: Uint8Array): this {
    return this.add(AttributeType.Data, bytes);
  }

  username(username: string): this {
    return this.add(AttributeType.Username, encodeText('USERNAME', username, 'username'));
  }

  realm(realm: string): this {
    return this.add(AttributeType.Realm, encodeText('REALM', realm, 'text'));
  }

  nonce(nonce: string): this {
    return this.add(AttributeType.Nonce, encodeText('NONCE', nonce, 'text'));
  }

  errorCode(error: StunErrorCode): this {
    return this.add(AttributeType.ErrorCode, encodeErrorCode(error));
  }

  unknownAttributes(types: readonly number[]): this {
    return this.add(AttributeType.UnknownAttributes, encodeUnknownAttributes(types));
  }

  build(options: BuildOptions = {}): Uint8Array {
    const trailer = (options.integrityKey ? 24 : 0) + (options.fingerprint ? 8 : 0);
    const body = this.attributes.reduce((sum, a) => sum + 4 + padded(a.value.length), 0) + trailer;
    if (body > MAX_BODY) throw StunEncodeError.valueTooLong('message', '65535 bytes of attributes');
    const out = new Uint8Array(HEADER_LENGTH + body);
    const view = new DataView(out.buffer);
    view.setUint16(0, encodeMessageType(this.cls, this.method));
    view.setUint16(2, body);
    view.setUint32(4, MAGIC_COOKIE);
    out.set(this.transactionId, 8);
    let offset = HEADER_LENGTH;
    for (const { type, value } of this.attributes) {
      view.setUint16(offset, type);
      view.setUint16(offset + 2, value.length);
      out.set(value, offset + 4); // padding bytes stay zero (RFC 8489 §14)
      offset += 4 + padded(value.length);
    }
    if (options.integrityKey) {
      view.setUint16(offset, AttributeType.MessageIntegrity);
      view.setUint16(offset + 2, 20);
      out.set(computeMessageIntegrity(out, offset, options.integrityKey), offset + 4);
      offset += 24;
    }
    if (options.fingerprint) {
      view.setUint16(offset, AttributeType.Fingerprint);
      view.setUint16(offset + 2, 4);
      view.setUint32(offset + 4, computeFingerprint(out, offset));
    }
    return out;
  }
}

function uint32Value(value: number, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw StunEncodeError.badValue(`${what} ${value} is not 0-4294967295`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** 96 random bits (RFC 8489 §6: cryptographically random). Inject your own in deterministic tests. */
export function newTransactionId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(TRANSACTION_ID_LENGTH));
}
