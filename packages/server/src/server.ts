import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, isIP } from 'node:net';
import { interfaceAddresses, type TurnCounters, type TurnListenerInfo, TurnServer } from '@convene/turn';
import { type Config, type ConveneOptions, parsePortRange, resolveConfig } from './config.js';
import { createHttpHandler } from './http.js';
import { type EmbeddedTurnPorts, IceServerProvider } from './iceServers.js';
import { createLogger, type Logger } from './logger.js';
import { isWildcardHost, localUrl } from './network.js';
import { type Clock, monotonicClock } from './rateLimiter.js';
import { SignalingServer, type SignalingStats } from './signaling.js';
import { hasWebApp } from './staticFiles.js';
import { loadTlsCredentials } from './tls.js';
import { SERVER_VERSION } from './version.js';

export interface ConveneServerDeps {
  /** Defaults to a pino logger at `config.logLevel`. Tests pass `createSilentLogger()`. */
  readonly logger?: Logger;
  /** Monotonic milliseconds for rate limiting and uptime. Defaults to `performance.now()`. */
  readonly clock?: Clock;
}

export interface ListenResult {
  /** The bound port (useful with `port: 0`). */
  readonly port: number;
  /** Where to open the app on this machine, without trailing slash, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The embedded STUN/TURN server's listeners; empty when it is off. */
  readonly turn: readonly TurnListenerInfo[];
}

export interface ConveneServerStats extends SignalingStats {
  /** The embedded TURN server's counters (allocations, relayed packets and bytes, denials...); null when off. */
  readonly turn: Readonly<TurnCounters> | null;
}

export interface ConveneServer {
  readonly config: Readonly<Config>;
  /** Starts HTTP(S) and WebSocket signaling. Rejects on bind errors (e.g. EADDRINUSE) or unreadable TLS files (ConfigError). */
  listen(): Promise<ListenResult>;
  /**
   * Graceful shutdown: joins are refused (`shutting_down`), every participant gets `bye` and a
   * 1001 close, then the HTTP server closes. Bounded by `config.shutdownTimeoutMs`, after which
   * remaining sockets are cut. Idempotent.
   */
  close(): Promise<void>;
  stats(): ConveneServerStats;
}

/**
 * Creates (but does not start) a Convene server. `options` is validated once here; invalid
 * options throw `ConfigError` listing every problem.
 */
export function createConveneServer(options: ConveneOptions = {}, deps: ConveneServerDeps = {}): ConveneServer {
  const config = resolveConfig(options);
  const logger = deps.logger ?? createLogger(config.logLevel);
  const clock = deps.clock ?? monotonicClock;
  const startedAt = clock();
  // Never logged. Random per start unless configured (an external TURN server must share it).
  const turnSecret = config.turnSecret ?? randomBytes(24).toString('base64url');
  let turnServer: TurnServer | undefined;
  let turnPorts: EmbeddedTurnPorts | null = null;
  const iceServers = new IceServerProvider(config, turnSecret, () => turnPorts);
  const signaling = new SignalingServer(config, { logger, clock, iceServers });
  const handler = createHttpHandler({
    config,
    logger,
    version: SERVER_VERSION,
    uptimeSeconds: () => Math.floor((clock() - startedAt) / 1000),
    participantsIn: (room) => signaling.rooms.get(room)?.size ?? 0,
  });

  let httpServer: Server | undefined;
  let listening: Promise<ListenResult> | undefined;
  let closing: Promise<void> | undefined;

  const listen = async (): Promise<ListenResult> => {
    if (closing) throw new Error('the server was closed');
    const tls = config.https ? await loadTlsCredentials(config, logger) : null;
    const server = tls ? createHttpsServer({ ...tls }, handler) : createHttpServer(handler);
    httpServer = server;
    server.on('upgrade', (req, socket, head: Buffer) => {
      try {
        signaling.handleUpgrade(req, socket, head);
      } catch (error) {
        logger.error({ err: error }, 'WebSocket upgrade failed');
        socket.destroy();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => logger.error({ err: error }, 'HTTP server error'));
    if (!config.turnDisabled && config.turnUrls.length === 0) {
      try {
        turnServer = await startEmbeddedTurn(
          config,
          turnSecret,
          tls && config.tlsCertFile !== null ? tls : null,
          logger,
        );
      } catch (error) {
        server.close();
        throw new TurnStartError(error);
      }
      const listeners = turnServer.listening;
      turnPorts = {
        port: listeners.find((l) => l.transport === 'udp')?.port ?? config.turnPort,
        tlsPort: listeners.find((l) => l.transport === 'tls')?.port ?? null,
      };
      logger.info({ listeners }, 'STUN/TURN listening');
    }
    const { port } = server.address() as AddressInfo;
    const url = localUrl(config.host, port, config.https);
    logger.info({ url, host: config.host, port, https: config.https, version: SERVER_VERSION }, 'listening');
    if (!hasWebApp(config.webRoot)) {
      logger.warn({ webRoot: config.webRoot }, 'the web app is not built (no index.html); run npm run build');
    }
    return { port, url, turn: turnServer?.listening ?? [] };
  };

  const close = async (): Promise<void> => {
    // A listen() still in progress finishes first, so its server is closed too.
    await listening?.catch(() => undefined);
    const deadline = clock() + config.shutdownTimeoutMs;
    logger.info('shutting down');
    signaling.beginShutdown();
    await signaling.drain(config.shutdownTimeoutMs);
    const server = httpServer;
    if (server?.listening) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            server.closeAllConnections();
            resolve();
          },
          Math.max(0, deadline - clock()),
        );
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        // Keep-alive connections with no request in flight would otherwise hold close() open.
        server.closeIdleConnections();
      });
    }
    await turnServer?.close();
    logger.info('stopped');
  };

  return {
    config,
    listen: () => {
      listening ??= listen();
      return listening;
    },
    close: () => {
      closing ??= close();
      return closing;
    },
    stats: () => ({ ...signaling.stats(), turn: turnServer ? { ...turnServer.counters } : null }),
  };
}

/** The embedded TURN server could not bind its ports; `code` is the socket error's (EADDRINUSE...). */
export class TurnStartError extends Error {
  readonly code: string | undefined;

  constructor(cause: unknown) {
    super(`the STUN/TURN server could not start: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'TurnStartError';
    this.code = cause instanceof Error && 'code' in cause ? String(cause.code) : undefined;
  }
}

/**
 * The embedded STUN/TURN server on the HTTP host's address (every interface for 0.0.0.0 / ::),
 * with TURN over TLS when a real certificate is configured: browsers do not accept a self-signed
 * one for `turns:`.
 */
async function startEmbeddedTurn(
  config: Readonly<Config>,
  secret: string,
  tls: { cert: string; key: string } | null,
  logger: Logger,
): Promise<TurnServer> {
  const listenAddresses =
    !isWildcardHost(config.host) && isIP(config.host) !== 0 ? [config.host] : interfaceAddresses();
  const announced = config.announcedAddress;
  return TurnServer.start({
    secret,
    realm: config.turnRealm,
    port: config.turnPort,
    listenAddresses,
    relayPorts: parsePortRange(config.turnRelayPorts) ?? { min: 49152, max: 65535 },
    ...(announced !== null && isIP(announced) !== 0 ? { announcedAddress: announced } : {}),
    ...(tls ? { tls: { cert: tls.cert, key: tls.key, port: config.turnTlsPort } } : {}),
    allowLoopbackPeers: config.turnAllowLoopback,
    limits: { allocationsPerUser: config.turnAllocationsPerUser },
    logger: logger.child({ component: 'turn' }),
  });
}
