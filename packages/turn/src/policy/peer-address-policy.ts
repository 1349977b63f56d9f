import { parseIp } from '../stun/ip.js';

/*
 * Which peers a TURN client may relay to (CreatePermission, ChannelBind, Send). SECURITY.md, TURN:
 * deny-list by default, embedded IPv4 unwrapped before matching, bounds compared on bytes. coturn
 * matched text and missed wrapped forms (CVE-2020-26262: 0.0.0.0, ::, ::1; CVE-2026-27624:
 * ::ffff:127.0.0.1), which is why nothing here looks at the string once it is parsed.
 */

/**
 * Why a peer address is refused. Stable (log it, test on it); never reused or renamed:
 * - `unspecified`: 0.0.0.0/8 or `::` (many stacks deliver these to the local host).
 * - `loopback`: 127/8 or `::1`.
 * - `private`: 10/8, 172.16/12, 192.168/16, fc00::/7 (ULA), fec0::/10 (deprecated site-local).
 * - `link-local`: 169.254/16 (cloud metadata lives at 169.254.169.254), fe80::/10.
 * - `shared`: 100.64/10 (carrier-grade NAT, RFC 6598).
 * - `multicast`: 224/4, ff00::/8.
 * - `reserved`: 192.0.0/24 (IETF assignments), 192.88.99/24 (6to4 relay anycast), 240/4 (incl.
 *   255.255.255.255).
 * - `documentation`: 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32.
 * - `teredo`: 2001::/32 (a tunnel to an arbitrary IPv4 host we could not check).
 * - `benchmarking`: 198.18/15.
 * - `own-port`: one of our listening ports at one of our addresses, or at any loopback/unspecified one.
 * - `invalid`: not an IPv4/IPv6 literal, or a port outside 1-65535.
 */
export type PeerDenialReason =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared'
  | 'multicast'
  | 'reserved'
  | 'documentation'
  | 'teredo'
  | 'benchmarking'
  | 'own-port'
  | 'invalid';

/** Options of {@link PeerAddressPolicy}; every list is validated once, in the constructor. */
export interface PeerAddressPolicyOptions {
  /** Tests only: let 127/8 and ::1 (in any wrapped form) through. Off by default. */
  allowLoopback?: boolean;
  /** Exact IPs always allowed even in a denied range (e.g. the embedded SFU's address). */
  allowedAddresses?: readonly string[];
  /** The server's own IPs (listening, relay, announced). Together with `ownPorts`, denied. */
  ownAddresses?: readonly string[];
  /**
   * Our listening ports (3478, 5349...). A peer at an own address (or any loopback/unspecified
   * address) with one of these ports is denied: a relay must never loop into our own listeners.
   * Relay ports are NOT listed here on purpose: relay-to-relay is how two relay-only people on one
   * TURN server reach each other, and data arriving on a relay only ever goes to that allocation's
   * client, so it cannot loop.
   */
  ownPorts?: readonly number[];
  /**
   * Our relay port range. A peer at an own address with a port in it is another allocation's relay
   * on this server, allowed even when our address is private: that is how two relay-only people
   * on one TURN server on a LAN reach each other. What arrives on a relay goes only to its
   * allocation's client, so this cannot loop.
   */
  ownRelayPorts?: { min: number; max: number };
}

interface Range {
  readonly prefix: Uint8Array;
  readonly bits: number;
  readonly reason: Exclude<PeerDenialReason, 'own-port' | 'invalid'>;
}

function ip(literal: string): Uint8Array {
  const bytes = parseIp(literal);
  if (!bytes) throw new Error(`bad built-in address ${literal}`); // unreachable: literals below
  return bytes;
}

function range(address: string, bits: number, reason: Range['reason']): Range {
  return { prefix: ip(address), bits, reason };
}

// SECURITY.md's list, exactly. Order only matters for overlaps: 2001:db8::/32 and 2001::/32 do not
// overlap (the second group differs), so first match is also the only match.
const IPV4_DENIED: readonly Range[] = [
  range('0.0.0.0', 8, 'unspecified'),
  range('10.0.0.0', 8, 'private'),
  range('100.64.0.0', 10, 'shared'),
  range('127.0.0.0', 8, 'loopback'),
  range('169.254.0.0', 16, 'link-local'),
  range('172.16.0.0', 12, 'private'),
  range('192.0.0.0', 24, 'reserved'),
  range('192.0.2.0', 24, 'documentation'),
  range('192.88.99.0', 24, 'reserved'),
  range('192.168.0.0', 16, 'private'),
  range('198.18.0.0', 15, 'benchmarking'),
  range('198.51.100.0', 24, 'documentation'),
  range('203.0.113.0', 24, 'documentation'),
  range('224.0.0.0', 4, 'multicast'),
  range('240.0.0.0', 4, 'reserved'),
];

const IPV6_DENIED: readonly Range[] = [
  range('::', 128, 'unspecified'),
  range('::1', 128, 'loopback'),
  range('fe80::', 10, 'link-local'),
  range('fc00::', 7, 'private'),
  range('fec0::', 10, 'private'),
  range('ff00::', 8, 'multicast'),
  range('2001:db8::', 32, 'documentation'),
  range('2001::', 32, 'teredo'),
];

// Prefixes that carry an IPv4 address a packet would really reach.
const IPV4_MAPPED = ip('::ffff:0:0'); // /96
const IPV4_COMPATIBLE = ip('::'); // /96
const NAT64 = ip('64:ff9b::'); // /96
const SIX_TO_FOUR = ip('2002::'); // /16, IPv4 in bytes 2-5
const IPV6_LOOPBACK = ip('::1');

/** True when the first `bits` bits of `bytes` equal those of `prefix` (same family assumed). */
function matches(bytes: Uint8Array, prefix: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== prefix[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[whole] ?? 0) & mask) === ((prefix[whole] ?? 0) & mask);
}

/**
 * The address a packet would really reach: the embedded IPv4 of an IPv4-mapped, IPv4-compatible,
 * NAT64 or 6to4 address, else the address itself. `::` and `::1` stay IPv6 (they are the IPv6
 * unspecified and loopback addresses, not 0.0.0.0 and 0.0.0.1).
 */
function effectiveAddress(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 4) return bytes;
  if (matches(bytes, IPV4_MAPPED, 96) || matches(bytes, NAT64, 96)) return bytes.subarray(12, 16);
  if (matches(bytes, SIX_TO_FOUR, 16)) return bytes.subarray(2, 6);
  if (matches(bytes, IPV4_COMPATIBLE, 96)) {
    const unspecifiedOrLoopback = bytes[12] === 0 && bytes[13] === 0 && bytes[14] === 0 && (bytes[15] ?? 0) <= 1;
    if (!unspecifiedOrLoopback) return bytes.subarray(12, 16);
  }
  return bytes;
}

/** Family-distinct key for a set lookup: 8 hex digits for IPv4, 32 for IPv6. */
function byteKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function isLoopback(effective: Uint8Array): boolean {
  return effective.length === 4 ? effective[0] === 127 : matches(effective, IPV6_LOOPBACK, 128);
}

function isUnspecified(effective: Uint8Array): boolean {
  return effective.length === 4 ? effective[0] === 0 : effective.every((b) => b === 0);
}

function keySet(name: string, addresses: readonly string[] | undefined): ReadonlySet<string> {
  const keys = new Set<string>();
  for (const address of addresses ?? []) {
    const bytes = parseIp(address);
    if (!bytes) throw new RangeError(`${name}: "${address}" is not an IP address`);
    keys.add(byteKey(effectiveAddress(bytes)));
  }
  return keys;
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 0xffff;
}

/**
 * Decides whether a TURN client may relay to a peer. Pure: no I/O, no logging (the caller logs
 * loudly when `allowLoopback` is on, SECURITY.md). Allowed and own addresses are compared on the
 * unwrapped address too, so `::ffff:10.0.0.5` is the same entry as `10.0.0.5` both ways.
 */
export class PeerAddressPolicy {
  private readonly allowLoopback: boolean;
  private readonly allowed: ReadonlySet<string>;
  private readonly own: ReadonlySet<string>;
  private readonly ownPorts: ReadonlySet<number>;
  private readonly ownRelayPorts: { min: number; max: number } | undefined;

  /** Throws a RangeError for an address or port in the options that does not parse. */
  constructor(options: PeerAddressPolicyOptions = {}) {
    this.allowLoopback = options.allowLoopback ?? false;
    this.allowed = keySet('allowedAddresses', options.allowedAddresses);
    this.own = keySet('ownAddresses', options.ownAddresses);
    for (const port of options.ownPorts ?? []) {
      if (!isPort(port)) throw new RangeError(`ownPorts: ${port} is not a port in 1-65535`);
    }
    this.ownPorts = new Set(options.ownPorts ?? []);
    const relay = options.ownRelayPorts;
    if (relay && !(isPort(relay.min) && isPort(relay.max) && relay.min <= relay.max)) {
      throw new RangeError(`ownRelayPorts: ${relay.min}-${relay.max} is not a port range`);
    }
    this.ownRelayPorts = relay;
  }

  /**
   * null when allowed, else why it is denied. Accepts textual IPs as decodeAddress produces them
   * (IPv6 RFC 5952 form) — and any valid IPv4/IPv6 literal.
   */
  check(address: string, port: number): PeerDenialReason | null {
    if (!isPort(port)) return 'invalid';
    const bytes = parseIp(address);
    if (!bytes) return 'invalid';
    const effective = effectiveAddress(bytes);
    const key = byteKey(effective);

    // First, and beyond every allowance: a wildcard listener also answers on loopback, and the SFU
    // (allowed) may share an own address with our listeners.
    if (this.ownPorts.has(port) && (this.own.has(key) || isLoopback(effective) || isUnspecified(effective))) {
      return 'own-port';
    }
    if (this.allowed.has(key)) return null;
    const relay = this.ownRelayPorts;
    if (relay && this.own.has(key) && port >= relay.min && port <= relay.max) return null;
    if (this.allowLoopback && isLoopback(effective)) return null;

    const ranges = effective.length === 4 ? IPV4_DENIED : IPV6_DENIED;
    for (const { prefix, bits, reason } of ranges) if (matches(effective, prefix, bits)) return reason;
    return null;
  }
}
