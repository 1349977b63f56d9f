import { randomBytes } from 'node:crypto';
import { StatelessNonces } from '../auth/nonce.js';
import { PerSourceLimiter } from '../auth/source-limiter.js';
import type { PeerAddressPolicy } from '../policy/peer-address-policy.js';
import type { StunAddress } from '../stun/attributes.js';
import { newTransactionId, StunMessageBuilder } from '../stun/builder.js';
import { AddressFamilyCode, AttributeType, StunClass, StunMethod, TRANSPORT_UDP } from '../stun/constants.js';
import { StunParseError } from '../stun/errors.js';
import { verifyFingerprint, verifyMessageIntegrity } from '../stun/integrity.js';
import { decodeStunMessage, isStunMessage, type StunMessage } from '../stun/message.js';
import { Allocation, type ClientLink, peerKeyOf, type RelayHandle } from './allocation.js';
import type { TurnAuthenticator } from './authenticator.js';
import {
  channelDataHeader,
  decodeChannelData,
  encodeChannelData,
  isChannelData,
  isValidChannelNumber,
} from './channel-data.js';
import { createTurnCounters, type TurnCounters } from './counters.js';

/** What the core asks the I/O layer to do. The core itself never touches a socket or a timer. */
export interface TurnCoreOutput {
  /** Sends `bytes`, followed by `payload` when given, as one datagram or one piece of the stream. */
  sendToClient(link: ClientLink, client: StunAddress, bytes: Uint8Array, payload?: Uint8Array): void;
  sendToPeer(relay: RelayHandle, peer: StunAddress, bytes: Uint8Array): void;
  /** Open a relay socket for `allocationId`; answer with relayOpened or relayFailed (later is fine). */
  openRelay(allocationId: number, family: 'IPv4' | 'IPv6', link: ClientLink, options: { evenPort: boolean }): void;
  closeRelay(relay: RelayHandle): void;
  /** Lifecycle events for logs (never carries keys or passwords). */
  event?(event: TurnCoreEvent): void;
}

export type TurnCoreEvent =
  | { type: 'allocation-created'; allocationId: number; userId: string; client: StunAddress; relayed: StunAddress }
  | {
      type: 'allocation-closed';
      allocationId: number;
      userId: string;
      linkId: number;
      reason: AllocationCloseReason;
    }
  | { type: 'auth-failed'; client: StunAddress; reason: string };

export type AllocationCloseReason = 'expired' | 'refreshed-to-zero' | 'link-closed' | 'server-closed' | 'relay-failed';

export interface TurnCoreLimits {
  /** Per user (the participant id of a REST username), beyond which Allocate gets 486. */
  allocationsPerUser: number;
  /** Server-wide; beyond it Allocate gets 508. */
  maxAllocations: number;
  /** Distinct peer IPs per allocation; beyond it CreatePermission/ChannelBind get 508. */
  permissionsPerAllocation: number;
  channelsPerAllocation: number;
  /** Seconds (RFC 8656 §7.2 defaults). */
  defaultLifetime: number;
  maxLifetime: number;
  /** 401/438 answers per source IP per second; beyond, unauthenticated requests are dropped. */
  unauthenticatedAnswersPerSecond: number;
}

export const DEFAULT_TURN_LIMITS: TurnCoreLimits = Object.freeze({
  allocationsPerUser: 12,
  maxAllocations: 10_000,
  permissionsPerAllocation: 64,
  channelsPerAllocation: 64,
  defaultLifetime: 600,
  maxLifetime: 3600,
  unauthenticatedAnswersPerSecond: 10,
});

export interface TurnCoreOptions {
  realm: string;
  authenticator: TurnAuthenticator;
  peerPolicy: Pick<PeerAddressPolicy, 'check'>;
  /** Monotonic milliseconds for lifetimes, nonces and rate limits; tests move it by hand. */
  clock: () => number;
  /** Unix milliseconds, for credential expiry (REST usernames carry a unix time). Default: `clock`. */
  wallClock?: () => number;
  limits?: Partial<TurnCoreLimits>;
  /** Secret for stateless nonces; random per start when absent. */
  nonceSecret?: Uint8Array;
}

/** RFC 8656 §9 and §12: permissions last 300 s, channel bindings 600 s. */
const PERMISSION_LIFETIME_MS = 300_000;
const CHANNEL_LIFETIME_MS = 600_000;

/** Comprehension-required attributes we act on. Anything else in 0x0000-0x7FFF earns a 420. */
const UNDERSTOOD: ReadonlySet<number> = new Set([
  AttributeType.Username,
  AttributeType.MessageIntegrity,
  AttributeType.ErrorCode,
  AttributeType.UnknownAttributes,
  AttributeType.ChannelNumber,
  AttributeType.Lifetime,
  AttributeType.XorPeerAddress,
  AttributeType.Data,
  AttributeType.Realm,
  AttributeType.Nonce,
  AttributeType.RequestedAddressFamily,
  AttributeType.RequestedTransport,
  AttributeType.EvenPort,
  AttributeType.ReservationToken,
  AttributeType.XorMappedAddress,
]);

/** Every error code this server sends, with its RFC reason phrase (documented in docs/turn.md). */
export const TURN_ERROR_REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  420: 'Unknown Attribute',
  437: 'Allocation Mismatch',
  438: 'Stale Nonce',
  440: 'Address Family not Supported',
  441: 'Wrong Credentials',
  442: 'Unsupported Transport Protocol',
  443: 'Peer Address Family Mismatch',
  486: 'Allocation Quota Reached',
  508: 'Insufficient Capacity',
};

type Authenticated = { username: string; userId: string; key: Uint8Array };

/**
 * The TURN server (RFC 8656 over RFC 8489 STUN), sans-IO: bytes and the clock come in, calls on
 * `TurnCoreOutput` go out. No state is created for a request until it is authenticated (nonces
 * are stateless; the 401 limiter is a bounded table reset every second).
 *
 * Output is a callback interface rather than a returned action list because relaying is the hot
 * path (every media packet of a relayed call): no per-packet array.
 */
export class TurnServerCore {
  readonly counters: TurnCounters = createTurnCounters();
  private readonly limits: TurnCoreLimits;
  private readonly nonces: StatelessNonces;
  private readonly challengeLimiter: PerSourceLimiter;
  private readonly allocationsByKey = new Map<string, Allocation>();
  private readonly allocationsById = new Map<number, Allocation>();
  private readonly allocationsByRelay = new Map<number, Allocation>();
  private readonly allocationsPerUser = new Map<string, number>();
  private nextAllocationId = 1;

  constructor(
    private readonly output: TurnCoreOutput,
    private readonly options: TurnCoreOptions,
  ) {
    this.limits = { ...DEFAULT_TURN_LIMITS, ...options.limits };
    this.nonces = new StatelessNonces(options.nonceSecret ?? randomBytes(32));
    this.challengeLimiter = new PerSourceLimiter({
      limit: this.limits.unauthenticatedAnswersPerSecond,
      windowMs: 1000,
      maxSources: 10_000,
    });
  }

  get allocationCount(): number {
    return this.allocationsById.size;
  }

  /** A datagram from a client (UDP), or one framed message from a TCP/TLS stream. */
  handleClientMessage(link: ClientLink, client: StunAddress, bytes: Uint8Array): void {
    if (isChannelData(bytes)) {
      this.relayChannelData(link, client, bytes);
      return;
    }
    if (!isStunMessage(bytes)) {
      this.counters.droppedMalformed++;
      return;
    }
    let message: StunMessage;
    try {
      message = decodeStunMessage(bytes);
    } catch (error) {
      if (!(error instanceof StunParseError)) throw error;
      this.counters.droppedMalformed++;
      return;
    }
    // A FINGERPRINT that does not match means the bytes are not (intact) STUN: drop silently.
    if (message.has(AttributeType.Fingerprint) && !verifyFingerprint(bytes)) {
      this.counters.droppedMalformed++;
      return;
    }
    try {
      if (message.cls === StunClass.Request) this.handleRequest(link, client, message, bytes);
      else if (message.cls === StunClass.Indication && message.method === StunMethod.Send)
        this.handleSend(link, client, message);
      // Responses and other indications from a client mean nothing to a server.
    } catch (error) {
      // A malformed attribute surfaces lazily, from a getter.
      if (!(error instanceof StunParseError)) throw error;
      this.counters.droppedMalformed++;
      if (message.cls === StunClass.Request) this.sendError(link, client, message, 400);
    }
  }

  /** A datagram that arrived on a relay socket from `peer`. */
  handlePeerMessage(relayId: number, peer: StunAddress, bytes: Uint8Array): void {
    const allocation = this.allocationsByRelay.get(relayId);
    const now = this.options.clock();
    if (allocation?.state !== 'active' || allocation.expiresAt <= now) {
      this.counters.droppedNoAllocation++;
      return;
    }
    if (!allocation.hasPermission(peer.address, now)) {
      this.counters.droppedNoPermission++;
      return;
    }
    const channel = allocation.channelsByPeer.get(peerKeyOf(peer.address, peer.port));
    this.counters.peerToClientPackets++;
    this.counters.peerToClientBytes += bytes.length;
    if (channel && channel.expiresAt > now) {
      if (allocation.link.transport === 'udp') {
        // Header and payload as two pieces of one datagram: no copy of the payload (the hot path).
        this.output.sendToClient(
          allocation.link,
          allocation.client,
          channelDataHeader(channel.number, bytes.length),
          bytes,
        );
      } else {
        this.output.sendToClient(allocation.link, allocation.client, encodeChannelData(channel.number, bytes, true));
      }
      return;
    }
    const indication = new StunMessageBuilder(StunClass.Indication, StunMethod.Data, newTransactionId())
      .xorPeerAddress(peer)
      .data(bytes)
      .build();
    this.output.sendToClient(allocation.link, allocation.client, indication);
  }

  /** The I/O layer opened the relay socket asked for by openRelay. */
  relayOpened(allocationId: number, relay: RelayHandle): void {
    const allocation = this.allocationsById.get(allocationId);
    if (allocation?.state !== 'opening') {
      this.output.closeRelay(relay); // the allocation went away while the socket was opening
      return;
    }
    allocation.state = 'active';
    allocation.relay = relay;
    this.allocationsByRelay.set(relay.id, allocation);
    const lifetime = Math.round((allocation.expiresAt - this.options.clock()) / 1000);
    const response = new StunMessageBuilder(
      StunClass.SuccessResponse,
      StunMethod.Allocate,
      allocation.allocateTransactionId,
    )
      .xorRelayedAddress(relay.relayedAddress)
      .lifetime(lifetime)
      .xorMappedAddress(allocation.client)
      .build({ integrityKey: allocation.integrityKey, fingerprint: true });
    allocation.response = { transactionId: allocation.allocateTransactionId, bytes: response };
    this.counters.allocationsCreated++;
    this.output.event?.({
      type: 'allocation-created',
      allocationId,
      userId: allocation.userId,
      client: allocation.client,
      relayed: relay.relayedAddress,
    });
    this.output.sendToClient(allocation.link, allocation.client, response);
  }

  /** The relay socket could not be opened: no free port (508) or no address of that family (440). */
  relayFailed(allocationId: number, reason: 'no-ports' | 'unsupported-family'): void {
    const allocation = this.allocationsById.get(allocationId);
    if (allocation?.state !== 'opening') return;
    const code = reason === 'unsupported-family' ? 440 : 508;
    const response = this.errorBuilder(StunMethod.Allocate, allocation.allocateTransactionId, code).build({
      integrityKey: allocation.integrityKey,
      fingerprint: true,
    });
    this.removeAllocation(allocation, 'relay-failed');
    this.output.sendToClient(allocation.link, allocation.client, response);
  }

  /** A TCP/TLS connection ended: its allocations go with it (RFC 8656 §3.1). */
  linkClosed(link: ClientLink): void {
    for (const allocation of [...this.allocationsById.values()]) {
      if (allocation.link.id === link.id) this.removeAllocation(allocation, 'link-closed');
    }
  }

  /** Expires allocations, permissions and channels. Call about once a second. */
  sweep(): void {
    const now = this.options.clock();
    for (const allocation of [...this.allocationsById.values()]) {
      if (allocation.expiresAt <= now) this.removeAllocation(allocation, 'expired');
      else allocation.expire(now);
    }
  }

  /** Closes every allocation (server shutdown). */
  close(): void {
    for (const allocation of [...this.allocationsById.values()]) this.removeAllocation(allocation, 'server-closed');
  }

  // --- requests -------------------------------------------------------------------------------

  private handleRequest(link: ClientLink, client: StunAddress, message: StunMessage, bytes: Uint8Array): void {
    const unknown = message.unknownComprehensionRequired(UNDERSTOOD);
    if (message.method === StunMethod.Binding) {
      if (unknown.length > 0) {
        this.sendError(link, client, message, 420, { unknown });
        return;
      }
      this.counters.bindingRequests++;
      const response = new StunMessageBuilder(StunClass.SuccessResponse, StunMethod.Binding, message.transactionId)
        .xorMappedAddress(client)
        .build({ fingerprint: true });
      this.output.sendToClient(link, client, response);
      return;
    }
    if (!isTurnRequest(message.method)) {
      this.sendError(link, client, message, 400);
      return;
    }
    // RFC 8489 §6.3.1: unknown comprehension-required attributes are reported before anything else.
    if (unknown.length > 0) {
      this.sendError(link, client, message, 420, { unknown });
      return;
    }
    const auth = this.authenticate(link, client, message, bytes);
    if (!auth) return;
    switch (message.method) {
      case StunMethod.Allocate: {
        this.handleAllocate(link, client, message, auth);
        return;
      }
      case StunMethod.Refresh: {
        this.handleRefresh(link, client, message, auth);
        return;
      }
      case StunMethod.CreatePermission: {
        this.handleCreatePermission(link, client, message, auth);
        return;
      }
      case StunMethod.ChannelBind: {
        this.handleChannelBind(link, client, message, auth);
        return;
      }
    }
  }

  /**
   * Long-term credentials (RFC 8489 §9.2). Returns the identity and key, or answers the request
   * itself (401/438/400/441) and returns null. Requests on an existing allocation are checked
   * against its key and username, so they go on past the credential's expiry (SECURITY.md).
   */
  private authenticate(
    link: ClientLink,
    client: StunAddress,
    message: StunMessage,
    bytes: Uint8Array,
  ): Authenticated | null {
    const now = this.options.clock();
    if (!message.messageIntegrity) {
      this.challenge(link, client, message, 401);
      return null;
    }
    const username = message.username;
    const realm = message.realm;
    const nonce = message.nonce;
    if (username === undefined || realm === undefined || nonce === undefined) {
      this.sendError(link, client, message, 400);
      return null;
    }
    const verdict = this.nonces.check(nonce, client.address, now);
    if (verdict !== 'valid' || realm !== this.options.realm) {
      this.challenge(link, client, message, verdict === 'stale' ? 438 : 401);
      return null;
    }
    const existing = this.allocationsByKey.get(allocationKey(link, client));
    let identity: Authenticated;
    if (existing && message.method !== StunMethod.Allocate) {
      if (username !== existing.username) {
        this.counters.authFailures++;
        this.sendError(link, client, message, 441);
        return null;
      }
      identity = { username, userId: existing.userId, key: existing.integrityKey };
    } else {
      const result = this.options.authenticator.authenticate(
        username,
        realm,
        (this.options.wallClock ?? this.options.clock)(),
      );
      if (!result.ok) {
        this.counters.authFailures++;
        this.output.event?.({ type: 'auth-failed', client, reason: result.problem });
        this.challenge(link, client, message, 401);
        return null;
      }
      identity = { username, userId: result.userId, key: result.key };
    }
    if (!verifyMessageIntegrity(bytes, identity.key)) {
      this.counters.authFailures++;
      this.output.event?.({ type: 'auth-failed', client, reason: 'bad-integrity' });
      this.challenge(link, client, message, 401);
      return null;
    }
    return identity;
  }

  private handleAllocate(link: ClientLink, client: StunAddress, message: StunMessage, auth: Authenticated): void {
    const key = allocationKey(link, client);
    const existing = this.allocationsByKey.get(key);
    if (existing) {
      // A retransmission (UDP) of the request that created it gets the same answer (RFC 8656 §7.2).
      if (Buffer.compare(existing.allocateTransactionId, message.transactionId) === 0) {
        if (existing.response) this.output.sendToClient(link, client, existing.response.bytes);
        return;
      }
      this.sendError(link, client, message, 437, { key: auth.key });
      return;
    }
    const transport = message.requestedTransport;
    if (transport === undefined) {
      this.sendError(link, client, message, 400, { key: auth.key });
      return;
    }
    if (transport !== TRANSPORT_UDP) {
      this.sendError(link, client, message, 442, { key: auth.key });
      return;
    }
    const familyCode = message.requestedAddressFamily ?? AddressFamilyCode.IPv4;
    if (familyCode !== AddressFamilyCode.IPv4 && familyCode !== AddressFamilyCode.IPv6) {
      this.sendError(link, client, message, 440, { key: auth.key });
      return;
    }
    const portRequest = relayPortRequest(message);
    if (portRequest.error) {
      this.sendError(link, client, message, portRequest.error, { key: auth.key });
      return;
    }
    if ((this.allocationsPerUser.get(auth.userId) ?? 0) >= this.limits.allocationsPerUser) {
      this.counters.quotaRejections++;
      this.sendError(link, client, message, 486, { key: auth.key });
      return;
    }
    if (this.allocationsById.size >= this.limits.maxAllocations) {
      this.counters.quotaRejections++;
      this.sendError(link, client, message, 508, { key: auth.key });
      return;
    }
    const now = this.options.clock();
    const allocation = new Allocation(
      this.nextAllocationId++,
      key,
      link,
      { family: client.family, address: client.address, port: client.port },
      auth.username,
      auth.userId,
      auth.key,
      familyCode === AddressFamilyCode.IPv6 ? 'IPv6' : 'IPv4',
      message.transactionId,
      now + this.grantedLifetime(message.lifetime) * 1000,
    );
    this.allocationsByKey.set(key, allocation);
    this.allocationsById.set(allocation.id, allocation);
    this.allocationsPerUser.set(auth.userId, (this.allocationsPerUser.get(auth.userId) ?? 0) + 1);
    this.output.openRelay(allocation.id, allocation.family, link, { evenPort: portRequest.evenPort });
  }

  private handleRefresh(link: ClientLink, client: StunAddress, message: StunMessage, auth: Authenticated): void {
    const allocation = this.allocationsByKey.get(allocationKey(link, client));
    if (allocation?.state !== 'active') {
      this.sendError(link, client, message, 437, { key: auth.key });
      return;
    }
    const familyCode = message.requestedAddressFamily;
    if (familyCode !== undefined && familyCode !== AddressFamilyCode[allocation.family]) {
      this.sendError(link, client, message, 443, { key: auth.key });
      return;
    }
    const requested = message.lifetime ?? this.limits.defaultLifetime;
    const granted = requested === 0 ? 0 : this.grantedLifetime(requested);
    // Answer first: deleting the last allocation of a TCP/TLS client ends its connection.
    this.sendSuccess(link, client, message, auth.key, (b) => b.lifetime(granted));
    if (granted === 0) this.removeAllocation(allocation, 'refreshed-to-zero');
    else allocation.expiresAt = this.options.clock() + granted * 1000;
  }

  private handleCreatePermission(
    link: ClientLink,
    client: StunAddress,
    message: StunMessage,
    auth: Authenticated,
  ): void {
    const allocation = this.activeAllocation(link, client, message, auth);
    if (!allocation) return;
    const peers = message.xorPeerAddresses;
    if (peers.length === 0) {
      this.sendError(link, client, message, 400, { key: auth.key });
      return;
    }
    // All or nothing (RFC 8656 §9.2): check every address before installing any.
    for (const peer of peers) {
      if (peer.family !== allocation.family) {
        this.sendError(link, client, message, 443, { key: auth.key });
        return;
      }
      if (!this.peerAllowed(peer)) {
        this.sendError(link, client, message, 403, { key: auth.key });
        return;
      }
    }
    const fresh = new Set(peers.map((p) => p.address).filter((ip) => !allocation.permissions.has(ip)));
    if (allocation.permissions.size + fresh.size > this.limits.permissionsPerAllocation) {
      this.counters.quotaRejections++;
      this.sendError(link, client, message, 508, { key: auth.key });
      return;
    }
    const expiresAt = this.options.clock() + PERMISSION_LIFETIME_MS;
    for (const peer of peers) allocation.permissions.set(peer.address, expiresAt);
    this.sendSuccess(link, client, message, auth.key);
  }

  private handleChannelBind(link: ClientLink, client: StunAddress, message: StunMessage, auth: Authenticated): void {
    const allocation = this.activeAllocation(link, client, message, auth);
    if (!allocation) return;
    const number = message.channelNumber;
    const peer = message.xorPeerAddresses[0];
    if (number === undefined || peer === undefined || !isValidChannelNumber(number)) {
      this.sendError(link, client, message, 400, { key: auth.key });
      return;
    }
    if (peer.family !== allocation.family) {
      this.sendError(link, client, message, 443, { key: auth.key });
      return;
    }
    // A channel number belongs to one peer and a peer to one channel, for the binding's life (§12.2).
    const byNumber = allocation.channelsByNumber.get(number);
    const byPeer = allocation.channelsByPeer.get(peerKeyOf(peer.address, peer.port));
    if ((byNumber && byNumber !== byPeer) || (byPeer && byPeer !== byNumber)) {
      this.sendError(link, client, message, 400, { key: auth.key });
      return;
    }
    if (!this.peerAllowed(peer)) {
      this.sendError(link, client, message, 403, { key: auth.key });
      return;
    }
    const needsPermission = !allocation.permissions.has(peer.address);
    if (
      (!byNumber && allocation.channelsByNumber.size >= this.limits.channelsPerAllocation) ||
      (needsPermission && allocation.permissions.size >= this.limits.permissionsPerAllocation)
    ) {
      this.counters.quotaRejections++;
      this.sendError(link, client, message, 508, { key: auth.key });
      return;
    }
    const now = this.options.clock();
    allocation.bindChannel(number, peer, now + CHANNEL_LIFETIME_MS);
    // Binding a channel installs or refreshes the permission for the peer's IP (§12.2).
    allocation.permissions.set(peer.address, now + PERMISSION_LIFETIME_MS);
    this.sendSuccess(link, client, message, auth.key);
  }

  // --- data -----------------------------------------------------------------------------------

  /** Send indication: unauthenticated by design (RFC 8656 §10), so only the permission guards it. */
  private handleSend(link: ClientLink, client: StunAddress, message: StunMessage): void {
    const allocation = this.allocationsByKey.get(allocationKey(link, client));
    const now = this.options.clock();
    if (!allocation?.relay || allocation.state !== 'active' || allocation.expiresAt <= now) {
      this.counters.droppedNoAllocation++;
      return;
    }
    const peer = message.xorPeerAddresses[0];
    const data = message.data;
    if (!peer || !data || peer.family !== allocation.family) {
      this.counters.droppedMalformed++;
      return;
    }
    if (!allocation.hasPermission(peer.address, now)) {
      this.counters.droppedNoPermission++;
      return;
    }
    this.counters.clientToPeerPackets++;
    this.counters.clientToPeerBytes += data.length;
    this.output.sendToPeer(allocation.relay, peer, data);
  }

  private relayChannelData(link: ClientLink, client: StunAddress, bytes: Uint8Array): void {
    const frame = decodeChannelData(bytes);
    if (!frame) {
      this.counters.droppedMalformed++;
      return;
    }
    const allocation = this.allocationsByKey.get(allocationKey(link, client));
    const now = this.options.clock();
    if (!allocation?.relay || allocation.state !== 'active' || allocation.expiresAt <= now) {
      this.counters.droppedNoAllocation++;
      return;
    }
    const channel = allocation.channelsByNumber.get(frame.channel);
    if (!channel || channel.expiresAt <= now) {
      this.counters.droppedNoChannel++;
      return;
    }
    if (!allocation.hasPermission(channel.peer.address, now)) {
      this.counters.droppedNoPermission++;
      return;
    }
    this.counters.clientToPeerPackets++;
    this.counters.clientToPeerBytes += frame.data.length;
    this.output.sendToPeer(allocation.relay, channel.peer, frame.data);
  }

  // --- helpers --------------------------------------------------------------------------------

  private activeAllocation(
    link: ClientLink,
    client: StunAddress,
    message: StunMessage,
    auth: Authenticated,
  ): Allocation | null {
    const allocation = this.allocationsByKey.get(allocationKey(link, client));
    if (allocation?.state !== 'active' || allocation.expiresAt <= this.options.clock()) {
      this.sendError(link, client, message, 437, { key: auth.key });
      return null;
    }
    return allocation;
  }

  private peerAllowed(peer: StunAddress): boolean {
    const denial = this.options.peerPolicy.check(peer.address, peer.port);
    if (denial === null) return true;
    this.counters.peerDenials++;
    return false;
  }

  /** RFC 8656 §7.2: the default if none or less was asked for, capped at the maximum. */
  private grantedLifetime(requested: number | undefined): number {
    return Math.min(
      Math.max(requested ?? this.limits.defaultLifetime, this.limits.defaultLifetime),
      this.limits.maxLifetime,
    );
  }

  /** 401 or 438 with REALM and a fresh NONCE, at most N per source IP per second. */
  private challenge(link: ClientLink, client: StunAddress, message: StunMessage, code: 401 | 438): void {
    const now = this.options.clock();
    if (!this.challengeLimiter.allow(client.address, now)) {
      this.counters.challengesDropped++;
      return;
    }
    this.counters.challengesSent++;
    const response = this.errorBuilder(message.method, message.transactionId, code)
      .realm(this.options.realm)
      .nonce(this.nonces.issue(client.address, now))
      .build({ fingerprint: true });
    this.output.sendToClient(link, client, response);
  }

  private sendError(
    link: ClientLink,
    client: StunAddress,
    message: StunMessage,
    code: number,
    extra: { key?: Uint8Array; unknown?: number[] } = {},
  ): void {
    this.counters.errorResponses++;
    const builder = this.errorBuilder(message.method, message.transactionId, code);
    if (extra.unknown) builder.unknownAttributes(extra.unknown);
    this.output.sendToClient(
      link,
      client,
      builder.build({ ...(extra.key ? { integrityKey: extra.key } : {}), fingerprint: true }),
    );
  }

  private sendSuccess(
    link: ClientLink,
    client: StunAddress,
    message: StunMessage,
    key: Uint8Array,
    fill?: (builder: StunMessageBuilder) => void,
  ): void {
    const builder = new StunMessageBuilder(StunClass.SuccessResponse, message.method, message.transactionId);
    fill?.(builder);
    this.output.sendToClient(link, client, builder.build({ integrityKey: key, fingerprint: true }));
  }

  private errorBuilder(method: number, transactionId: Uint8Array, code: number): StunMessageBuilder {
    return new StunMessageBuilder(StunClass.ErrorResponse, method, transactionId).errorCode({
      code,
      reason: TURN_ERROR_REASONS[code] ?? 'Error',
    });
  }

  private removeAllocation(allocation: Allocation, reason: AllocationCloseReason): void {
    if (allocation.state === 'closed') return;
    const wasActive = allocation.state === 'active';
    allocation.state = 'closed';
    this.allocationsByKey.delete(allocation.key);
    this.allocationsById.delete(allocation.id);
    const count = (this.allocationsPerUser.get(allocation.userId) ?? 1) - 1;
    if (count > 0) this.allocationsPerUser.set(allocation.userId, count);
    else this.allocationsPerUser.delete(allocation.userId);
    if (allocation.relay) {
      this.allocationsByRelay.delete(allocation.relay.id);
      this.output.closeRelay(allocation.relay);
    }
    if (reason === 'expired') this.counters.allocationsExpired++;
    if (wasActive) {
      this.output.event?.({
        type: 'allocation-closed',
        allocationId: allocation.id,
        userId: allocation.userId,
        linkId: allocation.link.id,
        reason,
      });
    }
  }
}

/**
 * EVEN-PORT and RESERVATION-TOKEN (RFC 8656 §7.2): an even relay port is granted; the R bit's
 * "reserve the next port too" is not (no RESERVATION-TOKEN is returned, which the RFC lets a client
 * cope with). We never issue tokens, so a non-zero token matches no reservation (508); the all-zero
 * token that clients such as coturn's send after getting none means "no token" (as coturn reads it).
 */
function relayPortRequest(message: StunMessage): { evenPort: boolean; error?: number } {
  const evenPort = message.get(AttributeType.EvenPort);
  const token = message.get(AttributeType.ReservationToken);
  if (evenPort !== undefined && evenPort.length !== 1) return { evenPort: false, error: 400 };
  if (token === undefined) return { evenPort: evenPort !== undefined };
  if (token.length !== 8 || evenPort !== undefined || message.has(AttributeType.RequestedAddressFamily)) {
    return { evenPort: false, error: 400 };
  }
  return token.every((byte) => byte === 0) ? { evenPort: false } : { evenPort: false, error: 508 };
}

function isTurnRequest(method: number): boolean {
  return (
    method === StunMethod.Allocate ||
    method === StunMethod.Refresh ||
    method === StunMethod.CreatePermission ||
    method === StunMethod.ChannelBind
  );
}

function allocationKey(link: ClientLink, client: StunAddress): string {
  return `${link.id}|${client.address}|${client.port}`;
}
