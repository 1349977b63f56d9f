import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, isIPv6, type Server as NetServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createServer as createTlsServer } from 'node:tls';
import { PeerAddressPolicy } from '../policy/peer-address-policy.js';
import type { ClientLink, RelayHandle } from '../server/allocation.js';
import { RestSecretAuthenticator } from '../server/authenticator.js';
import { StreamFramer } from '../server/channel-data.js';
import { type TurnCoreEvent, type TurnCoreLimits, type TurnCoreOutput, TurnServerCore } from '../server/core.js';
import type { TurnCounters } from '../server/counters.js';
import type { StunAddress } from '../stun/attributes.js';

export interface TurnServerOptions {
  /** Shared secret of the TURN REST scheme (coturn's static-auth-secret). */
  secret: string;
  realm: string;
  /** UDP and TCP port (default 3478). 0 picks a free one (tests). */
  port?: number;
  /** TLS (`turns:`) on this port when a certificate is given (default 5349). */
  tls?: { cert: string | Buffer; key: string | Buffer; port?: number };
  /** Addresses to listen on; default every interface address (IPv4 and global IPv6). */
  listenAddresses?: readonly string[];
  /** Relay port range, inclusive (default 49152-65535). */
  relayPorts?: { min: number; max: number };
  /** Public address to report as the relayed address, when the server sits behind a 1:1 NAT. */
  announcedAddress?: string;
  /** Peer IPs allowed even inside denied ranges (the embedded SFU's own address). */
  allowedPeerAddresses?: readonly string[];
  /** Tests only: relay to loopback peers. Logged as a warning when on. */
  allowLoopbackPeers?: boolean;
  limits?: Partial<TurnCoreLimits>;
  logger?: TurnLogger;
  /** Socket buffer sizes in bytes for listeners and relays (the kernel may cap them). */
  socketBufferBytes?: number;
  /** Limits on TCP/TLS clients; each defaults to DEFAULT_STREAM_LIMITS. */
  streamLimits?: Partial<TurnStreamLimits>;
}

/** Bounds on what TCP/TLS clients can make the server hold. */
export interface TurnStreamLimits {
  /** Open TCP/TLS connections at most; more are closed at once. */
  maxConnections: number;
  /** A connection that has not allocated within this time is closed (no idle unauthenticated state). */
  unallocatedTimeoutMs: number;
  /** Bytes queued for one client beyond which relayed packets to it are dropped. */
  maxBacklogBytes: number;
}

export const DEFAULT_STREAM_LIMITS: Readonly<TurnStreamLimits> = Object.freeze({
  maxConnections: 4096,
  unallocatedTimeoutMs: 30_000,
  maxBacklogBytes: 1024 * 1024,
});

/** The subset of a pino logger we use: structured object first, message second. */
export interface TurnLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  debug?(details: object, message: string): void;
}

export interface TurnListenerInfo {
  transport: 'udp' | 'tcp' | 'tls';
  address: string;
  port: number;
}

const DEFAULT_PORT = 3478;
const DEFAULT_TLS_PORT = 5349;
const DEFAULT_RELAY_PORTS = { min: 49152, max: 65535 };
const RELAY_BIND_ATTEMPTS = 32;

interface Relay extends RelayHandle {
  socket: UdpSocket;
}

interface StreamLink extends ClientLink {
  socket: Socket;
  client: StunAddress;
  allocations: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * The Node socket layer around TurnServerCore: UDP and TCP listeners on one port per address,
 * TLS when configured, one UDP socket per relay. Everything TURN-specific happens in the core.
 */
export class TurnServer {
  readonly core: TurnServerCore;
  private readonly udpLinks = new Map<number, { link: ClientLink; socket: UdpSocket }>();
  private readonly streamLinks = new Map<number, StreamLink>();
  private readonly streamServers: NetServer[] = [];
  private readonly relays = new Map<number, Relay>();
  private readonly usedRelayPorts = new Set<string>();
  private readonly listeners: TurnListenerInfo[] = [];
  private readonly relayPorts: { min: number; max: number };
  private readonly streamLimits: TurnStreamLimits;
  private readonly sweepTimer: NodeJS.Timeout;
  /** Rebuilt once the ports are known (port 0 picks them at bind time). */
  private peerPolicy: PeerAddressPolicy;
  private nextLinkId = 1;
  private nextRelayId = 1;
  private closed = false;

  private constructor(
    private readonly options: TurnServerOptions,
    private readonly addresses: readonly string[],
  ) {
    this.relayPorts = options.relayPorts ?? DEFAULT_RELAY_PORTS;
    this.streamLimits = { ...DEFAULT_STREAM_LIMITS, ...options.streamLimits };
    this.peerPolicy = this.buildPeerPolicy();
    const output: TurnCoreOutput = {
      sendToClient: (link, client, bytes, payload) => this.sendToClient(link, client, bytes, payload),
      sendToPeer: (relay, peer, bytes) => (relay as Relay).socket.send(bytes, peer.port, peer.address),
      openRelay: (allocationId, family, link, { evenPort }) =>
        void this.openRelay(allocationId, family, link, evenPort),
      closeRelay: (relay) => this.closeRelay(relay as Relay),
      event: (event) => this.onCoreEvent(event),
    };
    this.core = new TurnServerCore(output, {
      realm: options.realm,
      authenticator: new RestSecretAuthenticator(options.secret),
      peerPolicy: { check: (address, port) => this.peerPolicy.check(address, port) },
      clock: () => performance.now(),
      wallClock: Date.now,
      ...(options.limits ? { limits: options.limits } : {}),
      nonceSecret: randomBytes(32),
    });
    this.sweepTimer = setInterval(() => this.core.sweep(), 1000);
    this.sweepTimer.unref();
  }

  /** Binds every listener; rejects (and releases what was bound) if any port is taken. */
  static async start(options: TurnServerOptions): Promise<TurnServer> {
    const addresses = options.listenAddresses ?? interfaceAddresses();
    if (addresses.length === 0) throw new Error('no address to listen on');
    const server = new TurnServer(options, addresses);
    const port = options.port ?? DEFAULT_PORT;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await server.listen(port);
          break;
        } catch (error) {
          // Port 0: UDP draws a free number, and TCP (or another address) must then take the same
          // one, which something else may hold. Draw again, a few times.
          if (port !== 0 || !isAddressInUse(error) || attempt === EPHEMERAL_PORT_ATTEMPTS) throw error;
          await server.releaseListeners();
        }
      }
      server.peerPolicy = server.buildPeerPolicy();
    } catch (error) {
      await server.close();
      throw error;
    }
    if (options.allowLoopbackPeers) {
      options.logger?.warn({}, 'TURN relays to loopback peers (test option): never use this in production');
    }
    return server;
  }

  get listening(): readonly TurnListenerInfo[] {
    return this.listeners;
  }

  get counters(): Readonly<TurnCounters> {
    return this.core.counters;
  }

  /** Stops listening, drops every allocation and closes every socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.core.close();
    for (const link of this.streamLinks.values()) link.socket.destroy();
    await Promise.all([
      ...[...this.udpLinks.values()].map(({ socket }) => new Promise<void>((resolve) => socket.close(() => resolve()))),
      ...this.streamServers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    ]);
  }

  /** Closes every listener bound so far (a failed attempt of start()); nothing else was made yet. */
  private async releaseListeners(): Promise<void> {
    const udp = [...this.udpLinks.values()].map(({ socket }) => socket);
    const stream = this.streamServers.splice(0);
    this.udpLinks.clear();
    this.listeners.length = 0;
    await Promise.all([
      ...udp.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
      ...stream.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    ]);
  }

  private async listen(port: number): Promise<void> {
    // The first UDP bind may pick the port (0); every other listener then uses the same number.
    let chosen = port;
    for (const address of this.addresses) {
      const socket = await bindUdp(address, chosen, this.options.socketBufferBytes);
      chosen = socket.address().port;
      const link: ClientLink = { id: this.nextLinkId++, transport: 'udp', local: toStunAddress(socket.address()) };
      this.udpLinks.set(link.id, { link, socket });
      socket.on('message', (bytes: Buffer, remote: RemoteInfo) =>
        this.core.handleClientMessage(link, remote as StunAddress, bytes),
      );
      socket.on('error', (error) => this.options.logger?.warn({ err: error.message }, 'TURN UDP socket error'));
      this.listeners.push({ transport: 'udp', address, port: chosen });
      const tcp = createTcpServer((socket) => this.acceptStream(socket, 'tcp'));
      await listenStream(tcp, address, chosen);
      this.streamServers.push(tcp);
      this.listeners.push({ transport: 'tcp', address, port: chosen });
    }
    const tls = this.options.tls;
    if (tls) {
      let tlsPort = tls.port ?? DEFAULT_TLS_PORT;
      for (const address of this.addresses) {
        const server = createTlsServer({ cert: tls.cert, key: tls.key }, (socket) => this.acceptStream(socket, 'tls'));
        server.on('tlsClientError', () => {}); // a failed handshake is the client's problem, not a server error
        await listenStream(server, address, tlsPort);
        const bound = server.address();
        if (bound && typeof bound === 'object') tlsPort = bound.port;
        this.streamServers.push(server);
        this.listeners.push({ transport: 'tls', address, port: tlsPort });
      }
    }
  }

  /**
   * The deny-list (SECURITY.md) plus our own listening ports (a relay must never loop into our own
   * listeners); our own relays stay reachable, even on a private address (relay to relay).
   */
  private buildPeerPolicy(): PeerAddressPolicy {
    const { options } = this;
    return new PeerAddressPolicy({
      allowLoopback: options.allowLoopbackPeers ?? false,
      allowedAddresses: options.allowedPeerAddresses ?? [],
      ownAddresses: [...this.addresses, ...(options.announcedAddress ? [options.announcedAddress] : [])],
      ownPorts: [...new Set(this.listeners.map((l) => l.port))],
      ownRelayPorts: this.relayPorts,
    });
  }

  private acceptStream(socket: Socket, transport: 'tcp' | 'tls'): void {
    if (this.closed || this.streamLinks.size >= this.streamLimits.maxConnections || !socket.remoteAddress) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const link: StreamLink = {
      id: this.nextLinkId++,
      transport,
      local: {
        family: familyOf(socket.localAddress ?? ''),
        address: socket.localAddress ?? '',
        port: socket.localPort ?? 0,
      },
      socket,
      client: { family: familyOf(socket.remoteAddress), address: socket.remoteAddress, port: socket.remotePort ?? 0 },
      allocations: 0,
      idleTimer: undefined,
    };
    this.streamLinks.set(link.id, link);
    link.idleTimer = setTimeout(() => {
      if (link.allocations === 0) socket.destroy();
    }, this.streamLimits.unallocatedTimeoutMs);
    link.idleTimer.unref();
    const framer = new StreamFramer((message) => this.core.handleClientMessage(link, link.client, message));
    socket.on('data', (chunk: Buffer) => {
      if (!framer.push(chunk)) socket.destroy(); // framing lost: nothing after this can be trusted
    });
    socket.on('error', () => {}); // resets are normal; 'close' follows and cleans up
    socket.on('close', () => {
      clearTimeout(link.idleTimer);
      this.streamLinks.delete(link.id);
      this.core.linkClosed(link);
    });
  }

  private sendToClient(link: ClientLink, client: StunAddress, bytes: Uint8Array, payload?: Uint8Array): void {
    if (link.transport === 'udp') {
      const socket = this.udpLinks.get(link.id)?.socket;
      if (payload) socket?.send([bytes, payload], client.port, client.address);
      else socket?.send(bytes, client.port, client.address);
      return;
    }
    const stream = this.streamLinks.get(link.id);
    if (!stream || stream.socket.destroyed) return;
    // A TCP client that reads slower than its peers send would otherwise grow our memory without
    // bound; relayed media is loss-tolerant, so drop instead (UDP would have dropped too).
    if (stream.socket.writableLength > this.streamLimits.maxBacklogBytes) {
      this.core.counters.droppedBackpressure++;
      return;
    }
    stream.socket.write(bytes);
    if (payload) stream.socket.write(payload);
  }

  private async openRelay(
    allocationId: number,
    family: 'IPv4' | 'IPv6',
    link: ClientLink,
    evenPort: boolean,
  ): Promise<void> {
    const address =
      link.local.family === family ? link.local.address : this.addresses.find((a) => familyOf(a) === family);
    if (!address) {
      this.core.relayFailed(allocationId, 'unsupported-family');
      return;
    }
    const socket = await this.bindRelaySocket(address, evenPort);
    if (!socket) {
      this.options.logger?.warn({ allocationId }, 'TURN relay port range exhausted');
      this.core.relayFailed(allocationId, 'no-ports');
      return;
    }
    const port = socket.address().port;
    const announced = this.options.announcedAddress;
    const relay: Relay = {
      id: this.nextRelayId++,
      relayedAddress: {
        family,
        address: announced && familyOf(announced) === family ? announced : address,
        port,
      },
      socket,
    };
    this.relays.set(relay.id, relay);
    socket.on('message', (bytes: Buffer, remote: RemoteInfo) =>
      this.core.handlePeerMessage(relay.id, remote as StunAddress, bytes),
    );
    socket.on('error', () => {}); // ICMP-driven errors on a relay are the peer's problem
    const stream = this.streamLinks.get(link.id);
    if (stream) stream.allocations++;
    this.core.relayOpened(allocationId, relay);
  }

  /** A free port of the relay range (random, so relay ports are not predictable), even if asked. */
  private async bindRelaySocket(address: string, evenPort: boolean): Promise<UdpSocket | null> {
    const { min, max } = this.relayPorts;
    const span = max - min + 1;
    const start = Math.floor(Math.random() * span);
    for (let attempt = 0; attempt < Math.min(RELAY_BIND_ATTEMPTS * 2, span); attempt++) {
      // A prime stride spreads the attempts over the whole range.
      const port = min + ((start + attempt * 7919) % span);
      if (evenPort && port % 2 !== 0) continue;
      const key = `${address}|${port}`;
      if (this.usedRelayPorts.has(key)) continue;
      this.usedRelayPorts.add(key);
      try {
        return await bindUdp(address, port, this.options.socketBufferBytes);
      } catch {
        this.usedRelayPorts.delete(key); // taken by another process: try the next
      }
    }
    return null;
  }

  private closeRelay(relay: Relay): void {
    if (!this.relays.delete(relay.id)) return;
    const { address, port } = relay.socket.address();
    relay.socket.close(() => this.usedRelayPorts.delete(`${address}|${port}`));
  }

  private onCoreEvent(event: TurnCoreEvent): void {
    const logger = this.options.logger;
    switch (event.type) {
      case 'allocation-created':
        logger?.debug?.(
          { allocationId: event.allocationId, userId: event.userId, relayed: event.relayed },
          'TURN allocation',
        );
        return;
      case 'allocation-closed': {
        logger?.debug?.({ allocationId: event.allocationId, reason: event.reason }, 'TURN allocation closed');
        const stream = this.streamLinks.get(event.linkId);
        if (!stream) return;
        stream.allocations--;
        // A stream exists for its allocation (RFC 8656 §3.1): end it once the last one is gone.
        if (stream.allocations === 0 && event.reason !== 'link-closed') stream.socket.end();
        return;
      }
      case 'auth-failed':
        logger?.debug?.({ client: event.client.address, reason: event.reason }, 'TURN authentication failed');
        return;
    }
  }
}

function bindUdp(address: string, port: number, bufferBytes: number | undefined): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({
      type: isIPv6(address) ? 'udp6' : 'udp4',
      lookup: ipLiteralLookup,
      ...(isIPv6(address) ? { ipv6Only: true } : {}),
      ...(bufferBytes ? { recvBufferSize: bufferBytes, sendBufferSize: bufferBytes } : {}),
    });
    const onError = (error: Error) => {
      socket.close();
      reject(error);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/**
 * Every address we send to or bind is an IP literal. Node's default lookup still goes through
 * dns.lookup and a nextTick for each datagram; answering at once saves that on the relay's hot path.
 */
function ipLiteralLookup(
  address: string,
  family: unknown,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, address, family === 6 || isIPv6(address) ? 6 : 4);
}

const EPHEMERAL_PORT_ATTEMPTS = 10;

function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

function listenStream(server: NetServer, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true, ipv6Only: isIPv6(address) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Every IPv4 address and every IPv6 address that is not link-local (those need a zone id). */
export function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80')) continue;
      out.push(entry.address);
    }
  }
  return out;
}

function familyOf(address: string): 'IPv4' | 'IPv6' {
  return isIPv6(address) ? 'IPv6' : 'IPv4';
}

function toStunAddress(info: { address: string; port: number }): StunAddress {
  return { family: familyOf(info.address), address: info.address, port: info.port };
}
