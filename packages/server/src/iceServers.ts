import { isIPv6 } from 'node:net';
import type { IceServer } from '@convene/protocol';
import { mintRestCredentials } from '@convene/turn';
import type { Config } from './config.js';
import { hostForUrl, URL_HOST_PATTERN } from './network.js';

const HOST_HEADER = new RegExp(`^(${URL_HOST_PATTERN})(?::\\d{1,5})?$`);

/** What a participant gets: ICE servers, and when to send fresh ones (null: they never expire). */
export interface IceServerGrant {
  readonly iceServers: IceServer[];
  readonly renewInMs: number | null;
}

/** Where the embedded TURN server listens, once it does. */
export interface EmbeddedTurnPorts {
  readonly port: number;
  /** null when TURN over TLS is off (no certificate). */
  readonly tlsPort: number | null;
}

export interface IceServerSource {
  grant(participantId: string, requestHost: string | undefined): IceServerGrant;
}

/** Renew at 80% of the credential lifetime: early enough for a slow network, not chatty. */
const RENEW_AT = 0.8;

/**
 * Mints per-participant ICE servers: the embedded STUN/TURN server (or the configured external
 * TURN servers) with TURN REST credentials for this participant, plus any `--ice-server` STUN URLs.
 * The address is the host the browser used to reach us unless `--announced-address` says otherwise:
 * whatever reached the web page reaches the TURN server on the same machine.
 */
export class IceServerProvider implements IceServerSource {
  constructor(
    private readonly config: Readonly<Config>,
    private readonly secret: string,
    private readonly embedded: () => EmbeddedTurnPorts | null,
    private readonly wallClock: () => number = () => Date.now(),
  ) {}

  grant(participantId: string, requestHost: string | undefined): IceServerGrant {
    const { config } = this;
    const stun: IceServer[] = config.iceServers.map((url) => ({ urls: url }));
    const ports = this.embedded();
    const turnUrls =
      config.turnUrls.length > 0 ? [...config.turnUrls] : ports ? this.embeddedUrls(ports, requestHost) : [];
    if (turnUrls.length === 0) return { iceServers: stun, renewInMs: null };
    const credentials = mintRestCredentials(this.secret, participantId, this.wallClock(), config.turnCredentialTtl);
    const servers: IceServer[] = [];
    // The embedded server also answers STUN Binding: a server-reflexive candidate without relaying.
    if (ports && config.turnUrls.length === 0) servers.push({ urls: `stun:${this.host(requestHost)}:${ports.port}` });
    servers.push({ urls: turnUrls, username: credentials.username, credential: credentials.password });
    return {
      iceServers: [...servers, ...stun],
      renewInMs: Math.round(credentials.ttlSeconds * 1000 * RENEW_AT),
    };
  }

  private embeddedUrls(ports: EmbeddedTurnPorts, requestHost: string | undefined): string[] {
    const host = this.host(requestHost);
    const urls = [`turn:${host}:${ports.port}?transport=udp`, `turn:${host}:${ports.port}?transport=tcp`];
    if (ports.tlsPort !== null) urls.push(`turns:${host}:${ports.tlsPort}?transport=tcp`);
    return urls;
  }

  /** URL host: the announced address, else the request's Host without its port, else loopback. */
  private host(requestHost: string | undefined): string {
    return hostForUrl(this.config.announcedAddress ?? hostnameOf(requestHost) ?? '127.0.0.1');
  }
}

/**
 * The host name or IP of a Host header (`example.org:8080`, `[::1]:8080`), or undefined when it is
 * missing or not a plain host (the header is client-controlled; it only ever names the URL the
 * same client will use, but it must not inject anything into that URL).
 */
export function hostnameOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const host = HOST_HEADER.exec(header)?.[1];
  if (host?.startsWith('[')) {
    const literal = host.slice(1, -1);
    return isIPv6(literal) ? literal : undefined;
  }
  return host;
}
