import { copyBytes } from './bytes.js';
import { MAGIC_COOKIE, MAX_TEXT_CHARS, MAX_USERNAME_BYTES } from './constants.js';
import { StunEncodeError, StunParseError } from './errors.js';
import { formatIp, parseIp } from './ip.js';

/*
 * Value codecs for the attributes we understand: pure functions between an attribute's value
 * bytes and a typed value. Decoders throw only StunParseError('bad-attribute'); encoders only
 * StunEncodeError.
 */

export interface StunAddress {
  family: 'IPv4' | 'IPv6';
  /** Textual address; IPv6 in RFC 5952 canonical form when decoded. */
  address: string;
  port: number;
}

export interface StunErrorCode {
  /** 300-699: class * 100 + number (RFC 8489 §14.8). */
  code: number;
  reason: string;
}

const FAMILY_IPV4 = 0x01;
const FAMILY_IPV6 = 0x02;

/** MAPPED-ADDRESS (§14.1), or XOR-MAPPED-ADDRESS (§14.2) when `transactionId` is given. */
export function decodeAddress(type: number, value: Uint8Array, transactionId?: Uint8Array): StunAddress {
  if (value.length < 4) throw StunParseError.badAttribute(type, `address value of ${value.length} bytes`);
  const family = value[1];
  const ipLength = family === FAMILY_IPV4 ? 4 : family === FAMILY_IPV6 ? 16 : 0;
  if (ipLength === 0) throw StunParseError.badAttribute(type, `unknown address family ${family}`);
  if (value.length !== 4 + ipLength) throw StunParseError.badAttribute(type, `address value of ${value.length} bytes`);
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  let port = view.getUint16(2);
  const ip = copyBytes(value, 4);
  if (transactionId) {
    port ^= MAGIC_COOKIE >>> 16;
    xorInPlace(ip, xorPad(transactionId));
  }
  return { family: ipLength === 4 ? 'IPv4' : 'IPv6', address: formatIp(ip), port };
}

export function encodeAddress(address: StunAddress, transactionId?: Uint8Array): Uint8Array {
  const ip = parseIp(address.address);
  const expected = address.family === 'IPv4' ? 4 : 16;
  if (!ip || ip.length !== expected)
    throw StunEncodeError.badValue(`not an ${address.family} address: ${address.address}`);
  if (!Number.isInteger(address.port) || address.port < 0 || address.port > 0xffff) {
    throw StunEncodeError.badValue(`port ${address.port} is not 0-65535`);
  }
  const out = new Uint8Array(4 + ip.length);
  const view = new DataView(out.buffer);
  out[1] = ip.length === 4 ? FAMILY_IPV4 : FAMILY_IPV6;
  view.setUint16(2, transactionId ? address.port ^ (MAGIC_COOKIE >>> 16) : address.port);
  if (transactionId) xorInPlace(ip, xorPad(transactionId));
  out.set(ip, 4);
  return out;
}

/** Magic cookie followed by the transaction id: IPv4 uses the first 4 bytes, IPv6 all 16. */
function xorPad(transactionId: Uint8Array): Uint8Array {
  const pad = new Uint8Array(16);
  new DataView(pad.buffer).setUint32(0, MAGIC_COOKIE);
  pad.set(transactionId.subarray(0, 12), 4);
  return pad;
}

function xorInPlace(target: Uint8Array, pad: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] ?? 0) ^ (pad[i] ?? 0);
}

// ignoreBOM: keep a leading U+FEFF; the value must round-trip byte for byte (HMAC keys, nonces).
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

export type TextKind = 'username' | 'text';

export function decodeText(type: number, value: Uint8Array, kind: TextKind): string {
  if (kind === 'username' && value.length > MAX_USERNAME_BYTES) {
    throw StunParseError.badAttribute(type, `${value.length} bytes is over the ${MAX_USERNAME_BYTES}-byte limit`);
  }
  let text: string;
  try {
    text = utf8Decoder.decode(value);
  } catch {
    throw StunParseError.badAttribute(type, 'not valid UTF-8');
  }
  if (kind === 'text' && !fitsCharLimit(text)) {
    throw StunParseError.badAttribute(type, `over ${MAX_TEXT_CHARS} characters`);
  }
  return text;
}

export function encodeText(what: string, text: string, kind: TextKind): Uint8Array {
  // A lone surrogate would silently become U+FFFD: refuse rather than send something else.
  if (/\p{Cs}/u.test(text)) throw StunEncodeError.badValue(`${what} is not well-formed Unicode`);
  const bytes = utf8Encoder.encode(text);
  if (kind === 'username' && bytes.length > MAX_USERNAME_BYTES) {
    throw StunEncodeError.valueTooLong(what, `${MAX_USERNAME_BYTES} bytes`);
  }
  if (kind === 'text' && !fitsCharLimit(text)) throw StunEncodeError.valueTooLong(what, `${MAX_TEXT_CHARS} characters`);
  return bytes;
}

function fitsCharLimit(text: string): boolean {
  if (text.length <= MAX_TEXT_CHARS) return true; // UTF-16 units >= code points: the cheap common case
  let chars = 0;
  for (const _ of text) if (++chars > MAX_TEXT_CHARS) return false;
  return true;
}

/** ERROR-CODE (§14.8): 21 reserved bits, 3-bit class (3-6), 8-bit number (0-99), UTF-8 reason. */
export function decodeErrorCode(type: number, value: Uint8Array): StunErrorCode {
  if (value.length < 4) throw StunParseError.badAttribute(type, `ERROR-CODE of ${value.length} bytes`);
  const cls = (value[2] ?? 0) & 0x07;
  const number = value[3] ?? 0;
  if (cls < 3 || cls > 6 || number > 99) throw StunParseError.badAttribute(type, `invalid error code ${cls}/${number}`);
  return { code: cls * 100 + number, reason: decodeText(type, value.subarray(4), 'text') };
}

export function encodeErrorCode(error: StunErrorCode): Uint8Array {
  if (!Number.isInteger(error.code) || error.code < 300 || error.code > 699) {
    throw StunEncodeError.badValue(`error code ${error.code} is not 300-699`);
  }
  const reason = encodeText('ERROR-CODE reason', error.reason, 'text');
  const out = new Uint8Array(4 + reason.length);
  out[2] = Math.floor(error.code / 100);
  out[3] = error.code % 100;
  out.set(reason, 4);
  return out;
}

/** UNKNOWN-ATTRIBUTES (§14.9): a list of 16-bit attribute types. */
export function decodeUnknownAttributes(type: number, value: Uint8Array): number[] {
  if (value.length % 2 !== 0) throw StunParseError.badAttribute(type, 'UNKNOWN-ATTRIBUTES has an odd length');
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const types: number[] = [];
  for (let i = 0; i < value.length; i += 2) types.push(view.getUint16(i));
  return types;
}

export function encodeUnknownAttributes(types: readonly number[]): Uint8Array {
  const out = new Uint8Array(types.length * 2);
  const view = new DataView(out.buffer);
  types.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t > 0xffff)
      throw StunEncodeError.badValue(`attribute type ${t} is not 16-bit`);
    view.setUint16(i * 2, t);
  });
  return out;
}
