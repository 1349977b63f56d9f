import type { StunAddress } from '../stun/attributes.js';

/** Where a client's packets arrive: one UDP listening socket, or one TCP/TLS connection. */
export interface ClientLink {
  /** Unique among live links; part of the 5-tuple key. */
  readonly id: number;
  readonly transport: 'udp' | 'tcp' | 'tls';
  /** The server address the client reached (the 5-tuple's server side). */
  readonly local: StunAddress;
}

/** A relay socket the I/O layer opened for an allocation. */
export interface RelayHandle {
  readonly id: number;
  /** The address given to the client in XOR-RELAYED-ADDRESS (the announced one when configured). */
  readonly relayedAddress: StunAddress;
}

interface Expiring {
  expiresAt: number;
}

export interface Channel extends Expiring {
  readonly number: number;
  readonly peer: StunAddress;
  /** `${address}|${port}`, the key of channelsByPeer. */
  readonly peerKey: string;
}

export type AllocationState = 'opening' | 'active' | 'closed';

/**
 * One TURN allocation (RFC 8656 §2.2): a relayed address bound to a client's 5-tuple, with
 * permissions (per peer IP, §9) and channels (per peer IP and port, §12). Plain data: the core
 * owns every rule; this class only keeps the tables consistent.
 */
export class Allocation {
  state: AllocationState = 'opening';
  relay: RelayHandle | undefined;
  expiresAt: number;
  /** The Allocate success response, resent as is when the request is retransmitted (UDP). */
  response: { transactionId: Uint8Array; bytes: Uint8Array } | undefined;
  /** Peer IP → permission expiry. */
  readonly permissions = new Map<string, number>();
  readonly channelsByNumber = new Map<number, Channel>();
  readonly channelsByPeer = new Map<string, Channel>();

  constructor(
    readonly id: number,
    /** The 5-tuple key: link id, client address and port. */
    readonly key: string,
    readonly link: ClientLink,
    readonly client: StunAddress,
    readonly username: string,
    readonly userId: string,
    /** The long-term key every later request on this allocation must be signed with. */
    readonly integrityKey: Uint8Array,
    readonly family: 'IPv4' | 'IPv6',
    readonly allocateTransactionId: Uint8Array,
    expiresAt: number,
  ) {
    this.expiresAt = expiresAt;
  }

  hasPermission(peerIp: string, now: number): boolean {
    const expiresAt = this.permissions.get(peerIp);
    return expiresAt !== undefined && expiresAt > now;
  }

  bindChannel(number: number, peer: StunAddress, expiresAt: number): void {
    const peerKey = peerKeyOf(peer.address, peer.port);
    const existing = this.channelsByNumber.get(number);
    if (existing) {
      existing.expiresAt = expiresAt;
      return;
    }
    const channel: Channel = { number, peer: { ...peer }, peerKey, expiresAt };
    this.channelsByNumber.set(number, channel);
    this.channelsByPeer.set(peerKey, channel);
  }

  /** Drops expired permissions and channels; returns how many of each went. */
  expire(now: number): void {
    for (const [ip, expiresAt] of this.permissions) if (expiresAt <= now) this.permissions.delete(ip);
    for (const channel of this.channelsByNumber.values()) {
      if (channel.expiresAt > now) continue;
      this.channelsByNumber.delete(channel.number);
      this.channelsByPeer.delete(channel.peerKey);
    }
  }
}

export function peerKeyOf(address: string, port: number): string {
  return `${address}|${port}`;
}
