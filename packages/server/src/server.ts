import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type Config, type ConveneOptions, resolveConfig } from './config.js';
import { createHttpHandler } from './http.js';
import { createLogger, type Logger } from './logger.js';
import { localUrl } from './network.js';
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
}

export type ConveneServerStats = SignalingStats;

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
  const signaling = new SignalingServer(config, { logger, clock });
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
    const server = config.https
      ? createHttpsServer({ ...(await loadTlsCredentials(config, logger)) }, handler)
      : createHttpServer(handler);
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
    const { port } = server.address() as AddressInfo;
    const url = localUrl(config.host, port, config.https);
    logger.info({ url, host: config.host, port, https: config.https, version: SERVER_VERSION }, 'listening');
    if (!hasWebApp(config.webRoot)) {
      logger.warn({ webRoot: config.webRoot }, 'the web app is not built (no index.html); run npm run build');
    }
    return { port, url };
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
    stats: () => signaling.stats(),
  };
}
