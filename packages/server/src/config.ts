import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LIMITS } from '@convene/protocol';
import { ConfigError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import { URL_HOST_PATTERN } from './network.js';
import { SERVER_VERSION } from './version.js';

/** The complete, validated server configuration. Build it with `resolveConfig`. */
export interface Config {
  /** TCP port for HTTP and WebSocket; 0 picks a free port. */
  readonly port: number;
  /** Address to bind; 0.0.0.0 (or ::) listens on every interface. */
  readonly host: string;
  /** Serve HTTPS. Without certificate files a self-signed certificate is generated in memory. */
  readonly https: boolean;
  /** PEM certificate (chain) file; implies HTTPS. Given together with `tlsKeyFile`. */
  readonly tlsCertFile: string | null;
  /** PEM private key file; implies HTTPS. Given together with `tlsCertFile`. */
  readonly tlsKeyFile: string | null;
  readonly maxParticipants: number;
  /** Largest WebSocket frame accepted; a bigger one closes the connection with 1009. */
  readonly maxMessageBytes: number;
  /** Token bucket per connection: sustained messages per second… */
  readonly rateLimitPerSecond: number;
  /** …and how many may arrive at once. */
  readonly rateLimitBurst: number;
  readonly pingIntervalMs: number;
  /** A connection that shows no sign of life (pong or message) for this long is dropped. */
  readonly pingTimeoutMs: number;
  /** A connection that has not joined within this time is closed with 4002. */
  readonly joinTimeoutMs: number;
  /** How long a graceful shutdown waits for clients to close before cutting them off. */
  readonly shutdownTimeoutMs: number;
  /** STUN URLs handed to clients in `joined`. */
  readonly iceServers: readonly string[];
  /** Origins allowed to open the WebSocket; empty allows any. Normalized (`scheme://host[:port]`). */
  readonly allowedOrigins: readonly string[];
  /** Do not run the embedded STUN/TURN server (and hand out no TURN servers unless `turnUrls`). */
  readonly turnDisabled: boolean;
  /** UDP and TCP port of the embedded STUN/TURN server; 0 picks a free one. */
  readonly turnPort: number;
  /** `turns:` (TURN over TLS) port, served when a certificate is configured (`tlsCertFile`). */
  readonly turnTlsPort: number;
  /** TURN REST shared secret; random per start when null (fine unless an external TURN server shares it). */
  readonly turnSecret: string | null;
  /** Relay ports, inclusive, as `min-max`. */
  readonly turnRelayPorts: string;
  /** Tests only: let TURN relay to loopback addresses. */
  readonly turnAllowLoopback: boolean;
  /** External TURN servers (coturn with `use-auth-secret`) instead of the embedded one; needs `turnSecret`. */
  readonly turnUrls: readonly string[];
  readonly turnRealm: string;
  /** Lifetime of the TURN credentials handed to each participant, in seconds (renewed before expiry). */
  readonly turnCredentialTtl: number;
  /** TURN allocations one participant may hold (a browser makes 2-3 per peer connection). */
  readonly turnAllocationsPerUser: number;
  /** Address (IP or host name) given to browsers for STUN/TURN, and as the relayed address if an IP. */
  readonly announcedAddress: string | null;
  /** Directory of the built web app. */
  readonly webRoot: string;
  readonly logLevel: LogLevel;
}

/** What callers pass: any subset of `Config`; the rest comes from `DEFAULT_CONFIG`. */
export type ConveneOptions = Partial<Config>;

/** Resolved relative to this module, so it works from src/ and dist/ alike (both one level deep). */
const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../apps/web/dist/', import.meta.url));

export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  port: 8080,
  host: '0.0.0.0',
  https: false,
  tlsCertFile: null,
  tlsKeyFile: null,
  maxParticipants: LIMITS.defaultMaxParticipants,
  maxMessageBytes: LIMITS.defaultMaxMessageBytes,
  rateLimitPerSecond: LIMITS.defaultRateLimitPerSecond,
  rateLimitBurst: LIMITS.defaultRateLimitBurst,
  pingIntervalMs: LIMITS.defaultPingIntervalMs,
  pingTimeoutMs: LIMITS.defaultPingTimeoutMs,
  joinTimeoutMs: LIMITS.defaultJoinTimeoutMs,
  shutdownTimeoutMs: 5_000,
  iceServers: Object.freeze([]),
  allowedOrigins: Object.freeze([]),
  turnDisabled: false,
  turnPort: 3478,
  turnTlsPort: 5349,
  turnSecret: null,
  turnRelayPorts: '49152-65535',
  turnAllowLoopback: false,
  turnUrls: Object.freeze([]),
  turnRealm: 'convene',
  turnCredentialTtl: 300,
  turnAllocationsPerUser: 12,
  announcedAddress: null,
  webRoot: DEFAULT_WEB_ROOT,
  logLevel: 'info',
});

// ---------------------------------------------------------------- option table

type OptionKind = 'integer' | 'number' | 'string' | 'boolean' | 'list';

interface OptionSpec {
  readonly key: keyof Config;
  readonly flag: string;
  readonly env: string;
  readonly kind: OptionKind;
  readonly valueName?: string;
  /** The flag may be given several times (values accumulate). */
  readonly repeatable?: boolean;
  readonly description: string;
}

/** One table drives parsing, environment variables, validation messages and --help. */
const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'port',
    flag: 'port',
    env: 'PORT',
    kind: 'integer',
    valueName: 'n',
    description: 'TCP port for HTTP and WebSocket (0 = any free port).',
  },
  {
    key: 'host',
    flag: 'host',
    env: 'HOST',
    kind: 'string',
    valueName: 'address',
    description: 'Address to listen on; 0.0.0.0 means every interface (LAN included).',
  },
  {
    key: 'https',
    flag: 'https',
    env: 'CONVENE_HTTPS',
    kind: 'boolean',
    description:
      'Serve HTTPS with a self-signed certificate made at startup. Browsers only allow camera and microphone on https:// or http://localhost, so use this to join from other devices on your LAN (they will show a certificate warning once).',
  },
  {
    key: 'tlsCertFile',
    flag: 'tls-cert',
    env: 'CONVENE_TLS_CERT',
    kind: 'string',
    valueName: 'file',
    description: 'PEM certificate (chain) file; serves HTTPS. Needs --tls-key.',
  },
  {
    key: 'tlsKeyFile',
    flag: 'tls-key',
    env: 'CONVENE_TLS_KEY',
    kind: 'string',
    valueName: 'file',
    description: 'PEM private key file for --tls-cert.',
  },
  {
    key: 'maxParticipants',
    flag: 'max-participants',
    env: 'CONVENE_MAX_PARTICIPANTS',
    kind: 'integer',
    valueName: 'n',
    description: 'Most participants in one room; one more gets room_full.',
  },
  {
    key: 'maxMessageBytes',
    flag: 'max-message-bytes',
    env: 'CONVENE_MAX_MESSAGE_BYTES',
    kind: 'integer',
    valueName: 'bytes',
    description: 'Largest signaling message accepted; a bigger one closes the connection (1009).',
  },
  {
    key: 'rateLimitPerSecond',
    flag: 'rate-limit',
    env: 'CONVENE_RATE_LIMIT',
    kind: 'number',
    valueName: 'msgs/s',
    description: 'Sustained signaling messages per second per connection.',
  },
  {
    key: 'rateLimitBurst',
    flag: 'rate-burst',
    env: 'CONVENE_RATE_BURST',
    kind: 'integer',
    valueName: 'n',
    description: 'Messages a connection may send at once above the sustained rate.',
  },
  {
    key: 'pingIntervalMs',
    flag: 'ping-interval',
    env: 'CONVENE_PING_INTERVAL',
    kind: 'integer',
    valueName: 'ms',
    description: 'How often the server pings each connection.',
  },
  {
    key: 'pingTimeoutMs',
    flag: 'ping-timeout',
    env: 'CONVENE_PING_TIMEOUT',
    kind: 'integer',
    valueName: 'ms',
    description:
      'A connection silent (no pong, no message) this long is dropped and others see it leave. Must exceed --ping-interval.',
  },
  {
    key: 'joinTimeoutMs',
    flag: 'join-timeout',
    env: 'CONVENE_JOIN_TIMEOUT',
    kind: 'integer',
    valueName: 'ms',
    description: 'A connection must send join within this time (else close 4002).',
  },
  {
    key: 'shutdownTimeoutMs',
    flag: 'shutdown-timeout',
    env: 'CONVENE_SHUTDOWN_TIMEOUT',
    kind: 'integer',
    valueName: 'ms',
    description: 'On SIGTERM/SIGINT, how long to wait for clients to close before cutting them off.',
  },
  {
    key: 'iceServers',
    flag: 'ice-server',
    env: 'CONVENE_ICE_SERVERS',
    kind: 'list',
    valueName: 'url',
    repeatable: true,
    description:
      'STUN server handed to clients, e.g. stun:stun.example.org:3478. Repeatable (environment: comma-separated). None is fine on a LAN.',
  },
  {
    key: 'allowedOrigins',
    flag: 'allowed-origins',
    env: 'CONVENE_ALLOWED_ORIGINS',
    kind: 'list',
    valueName: 'origins',
    description:
      'Comma-separated origins allowed to open the WebSocket, e.g. https://meet.example.org (include the origin this server is reached at). Empty: any origin.',
  },
  {
    key: 'turnDisabled',
    flag: 'no-turn',
    env: 'CONVENE_NO_TURN',
    kind: 'boolean',
    description:
      'Do not start the embedded STUN/TURN server. Without TURN, people behind strict NATs or firewalls that block UDP cannot connect.',
  },
  {
    key: 'turnPort',
    flag: 'turn-port',
    env: 'CONVENE_TURN_PORT',
    kind: 'integer',
    valueName: 'n',
    description: 'UDP and TCP port of the embedded STUN/TURN server (open it in the firewall).',
  },
  {
    key: 'turnTlsPort',
    flag: 'turn-tls-port',
    env: 'CONVENE_TURN_TLS_PORT',
    kind: 'integer',
    valueName: 'n',
    description:
      'TURN over TLS (turns:) port, served with the --tls-cert certificate; reaches people whose firewall only lets TLS out (443 is the most permissive choice).',
  },
  {
    key: 'turnSecret',
    flag: 'turn-secret',
    env: 'CONVENE_TURN_SECRET',
    kind: 'string',
    valueName: 'secret',
    description:
      'Shared secret for TURN credentials (the TURN REST scheme, coturn static-auth-secret). Random at each start if not set; set it when using --turn-url. Never logged.',
  },
  {
    key: 'turnRelayPorts',
    flag: 'turn-relay-ports',
    env: 'CONVENE_TURN_RELAY_PORTS',
    kind: 'string',
    valueName: 'min-max',
    description: 'UDP ports the TURN server relays media on (open them in the firewall).',
  },
  {
    key: 'turnAllowLoopback',
    flag: 'turn-allow-loopback',
    env: 'CONVENE_TURN_ALLOW_LOOPBACK',
    kind: 'boolean',
    description: 'Tests only: let TURN relay to loopback addresses (127.0.0.1, ::1). Unsafe on a real server.',
  },
  {
    key: 'turnUrls',
    flag: 'turn-url',
    env: 'CONVENE_TURN_URLS',
    kind: 'list',
    valueName: 'url',
    repeatable: true,
    description:
      'Use an external TURN server (e.g. coturn with use-auth-secret) instead of the embedded one, e.g. turn:turn.example.org:3478?transport=udp. Repeatable; needs --turn-secret.',
  },
  {
    key: 'turnRealm',
    flag: 'turn-realm',
    env: 'CONVENE_TURN_REALM',
    kind: 'string',
    valueName: 'realm',
    description: 'TURN realm of the embedded server.',
  },
  {
    key: 'turnCredentialTtl',
    flag: 'turn-credential-ttl',
    env: 'CONVENE_TURN_CREDENTIAL_TTL',
    kind: 'integer',
    valueName: 'seconds',
    description: 'How long the TURN credentials given to a participant are valid; they are renewed before they expire.',
  },
  {
    key: 'turnAllocationsPerUser',
    flag: 'turn-allocations-per-user',
    env: 'CONVENE_TURN_ALLOCATIONS_PER_USER',
    kind: 'integer',
    valueName: 'n',
    description:
      'TURN allocations one participant may hold (more get 486). A browser makes 2-3 per peer connection, so 12 covers about 4 relayed peers in a mesh.',
  },
  {
    key: 'announcedAddress',
    flag: 'announced-address',
    env: 'CONVENE_ANNOUNCED_ADDRESS',
    kind: 'string',
    valueName: 'address',
    description:
      "Public IP or host name browsers should use for STUN/TURN (behind NAT, e.g. a cloud VM's public IP). Default: the host the browser used to reach this server.",
  },
  {
    key: 'webRoot',
    flag: 'web-root',
    env: 'CONVENE_WEB_ROOT',
    kind: 'string',
    valueName: 'dir',
    description: 'Directory of the built web app.',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'CONVENE_LOG_LEVEL',
    kind: 'string',
    valueName: 'level',
    description: `Log level: ${LOG_LEVELS.join(', ')}.`,
  },
];

const SPEC_BY_KEY = new Map(OPTIONS.map((spec) => [spec.key, spec]));

/** How a key is named in messages: by its command-line flag, which is what users type. */
function nameOf(key: keyof Config): string {
  const spec = SPEC_BY_KEY.get(key);
  return spec ? `--${spec.flag}` : key;
}

// ---------------------------------------------------------------- validation

const MAX_DURATION_MS = 3_600_000;
const STUN_URL = new RegExp(`^stuns?:(?:${URL_HOST_PATTERN})(?::(\\d{1,5}))?$`);
const TURN_URL = new RegExp(`^turns?:(?:${URL_HOST_PATTERN})(?::(\\d{1,5}))?(?:\\?transport=(?:udp|tcp))?$`);
const HOST_NAME = new RegExp(`^(?:${URL_HOST_PATTERN})$`);

/**
 * Fills `options` from `DEFAULT_CONFIG` and validates the result once. Throws `ConfigError`
 * listing every problem (not just the first), each named by its command-line flag.
 */
export function resolveConfig(options: ConveneOptions = {}): Readonly<Config> {
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(DEFAULT_CONFIG, key)) problems.push(`unknown option "${key}"`);
  }
  const merged: Config = { ...DEFAULT_CONFIG };
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof Config)[]) {
    const value = options[key];
    // undefined means "not given" (Partial), so the default stays.
    if (value !== undefined) (merged as Record<keyof Config, unknown>)[key] = value;
  }
  const c = merged;

  const integer = (key: keyof Config, min: number, max: number): boolean => {
    const value = c[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${nameOf(key)} must be an integer from ${min} to ${max} (got ${show(value)})`);
      return false;
    }
    return true;
  };
  integer('port', 0, 65_535);
  integer('maxParticipants', 1, 10_000);
  integer('maxMessageBytes', 1024, 16 * 1024 * 1024);
  integer('rateLimitBurst', 1, 1_000_000);
  const pingIntervalOk = integer('pingIntervalMs', 10, MAX_DURATION_MS);
  const pingTimeoutOk = integer('pingTimeoutMs', 20, MAX_DURATION_MS);
  integer('joinTimeoutMs', 10, MAX_DURATION_MS);
  integer('shutdownTimeoutMs', 0, 600_000);
  integer('turnPort', 0, 65_535);
  integer('turnTlsPort', 0, 65_535);
  integer('turnCredentialTtl', 60, 86_400);
  integer('turnAllocationsPerUser', 1, 1000);
  for (const key of ['turnDisabled', 'turnAllowLoopback'] as const) {
    if (typeof c[key] !== 'boolean') problems.push(`${nameOf(key)} must be true or false (got ${show(c[key])})`);
  }
  if (c.turnSecret !== null && (typeof c.turnSecret !== 'string' || c.turnSecret.length < 8)) {
    problems.push(`${nameOf('turnSecret')} must be at least 8 characters`); // never echo a secret
  }
  const relayPorts = parsePortRange(c.turnRelayPorts);
  if (!relayPorts) {
    problems.push(
      `${nameOf('turnRelayPorts')} must be a range like 49152-65535 within 1024-65535 (got ${show(c.turnRelayPorts)})`,
    );
  }
  if (typeof c.turnRealm !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(c.turnRealm)) {
    problems.push(
      `${nameOf('turnRealm')} must be 1-64 printable ASCII characters without spaces (got ${show(c.turnRealm)})`,
    );
  }
  if (c.announcedAddress !== null && !isHostOrIp(c.announcedAddress)) {
    problems.push(`${nameOf('announcedAddress')} must be an IP address or host name (got ${show(c.announcedAddress)})`);
  }

  if (typeof c.rateLimitPerSecond !== 'number' || !(c.rateLimitPerSecond > 0 && c.rateLimitPerSecond <= 1_000_000)) {
    problems.push(
      `${nameOf('rateLimitPerSecond')} must be a number above 0 and at most 1000000 (got ${show(c.rateLimitPerSecond)})`,
    );
  }
  if (pingIntervalOk && pingTimeoutOk && c.pingTimeoutMs <= c.pingIntervalMs) {
    // Otherwise a healthy peer could be dropped before it even got the chance to answer a ping.
    problems.push(
      `${nameOf('pingTimeoutMs')} (${c.pingTimeoutMs}) must be greater than ${nameOf('pingIntervalMs')} (${c.pingIntervalMs})`,
    );
  }
  if (typeof c.host !== 'string' || c.host.trim() === '' || /\s/.test(c.host)) {
    problems.push(`${nameOf('host')} must be a host name or IP address (got ${show(c.host)})`);
  }
  if (typeof c.https !== 'boolean') problems.push(`${nameOf('https')} must be true or false (got ${show(c.https)})`);
  for (const key of ['tlsCertFile', 'tlsKeyFile'] as const) {
    const value = c[key];
    if (value !== null && (typeof value !== 'string' || value === '')) {
      problems.push(`${nameOf(key)} must be a file path (got ${show(value)})`);
    }
  }
  if ((c.tlsCertFile === null) !== (c.tlsKeyFile === null)) {
    problems.push(`${nameOf('tlsCertFile')} and ${nameOf('tlsKeyFile')} must be given together`);
  }
  if (typeof c.webRoot !== 'string' || c.webRoot === '') {
    problems.push(`${nameOf('webRoot')} must be a directory path (got ${show(c.webRoot)})`);
  }
  if (!(LOG_LEVELS as readonly unknown[]).includes(c.logLevel)) {
    problems.push(`${nameOf('logLevel')} must be one of ${LOG_LEVELS.join(', ')} (got ${show(c.logLevel)})`);
  }

  const iceServers = validateList(c.iceServers, 'iceServers', problems, validateIceServer);
  const allowedOrigins = validateList(c.allowedOrigins, 'allowedOrigins', problems, validateOrigin);
  const turnUrls = validateList(c.turnUrls, 'turnUrls', problems, validateTurnUrl);
  if (turnUrls.length > 0 && c.turnSecret === null) {
    problems.push(
      `${nameOf('turnUrls')} needs ${nameOf('turnSecret')}: the secret the TURN server checks credentials with`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...c,
    // A certificate means HTTPS, whether or not --https was given too.
    https: c.https || c.tlsCertFile !== null,
    webRoot: resolve(c.webRoot),
    iceServers: Object.freeze(iceServers),
    allowedOrigins: Object.freeze([...new Set(allowedOrigins)]),
    turnUrls: Object.freeze(turnUrls),
  });
}

function validateList(
  value: unknown,
  key: keyof Config,
  problems: string[],
  validate: (item: string) => { ok: true; value: string } | { ok: false; problem: string },
): string[] {
  if (!Array.isArray(value)) {
    problems.push(`${nameOf(key)} must be a list of strings (got ${show(value)})`);
    return [];
  }
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string') {
      problems.push(`${nameOf(key)} must be a list of strings (got ${show(item)} in it)`);
      continue;
    }
    const result = validate(item.trim());
    if (result.ok) out.push(result.value);
    else problems.push(`${nameOf(key)}: ${result.problem}`);
  }
  return out;
}

function validateIceServer(url: string): { ok: true; value: string } | { ok: false; problem: string } {
  if (/^turns?:/i.test(url)) {
    // A turn: URL needs credentials, which only --turn-url servers get (minted with --turn-secret).
    return { ok: false, problem: `"${url}" is a TURN URL; give TURN servers with --turn-url and --turn-secret` };
  }
  return validateServerUrl(url, STUN_URL, 'a STUN URL like stun:stun.example.org:3478');
}

function validateTurnUrl(url: string): { ok: true; value: string } | { ok: false; problem: string } {
  return validateServerUrl(url, TURN_URL, 'a TURN URL like turn:turn.example.org:3478?transport=udp');
}

/** `pattern` captures the optional port, which must also fit in 16 bits. */
function validateServerUrl(
  url: string,
  pattern: RegExp,
  expected: string,
): { ok: true; value: string } | { ok: false; problem: string } {
  const match = pattern.exec(url);
  if (!match || (match[1] !== undefined && Number(match[1]) > 65_535)) {
    return { ok: false, problem: `"${url}" is not ${expected}` };
  }
  return { ok: true, value: url };
}

/** `min-max` within the unprivileged ports, or null. */
export function parsePortRange(text: unknown): { min: number; max: number } | null {
  if (typeof text !== 'string') return null;
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  if (!match) return null;
  const min = Number(match[1]);
  const max = Number(match[2]);
  return min >= 1024 && max <= 65_535 && min <= max ? { min, max } : null;
}

function isHostOrIp(text: string): boolean {
  return isIP(text) !== 0 || (HOST_NAME.test(text) && !text.startsWith('['));
}

function validateOrigin(origin: string): { ok: true; value: string } | { ok: false; problem: string } {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return { ok: false, problem: `"${origin}" is not an origin like https://meet.example.org` };
  }
  const onlyOrigin = url.pathname === '/' && !/^[a-z]+:\/\/[^/]*\/./i.test(origin) && !url.search && !url.hash;
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !onlyOrigin || url.username || url.password) {
    return {
      ok: false,
      problem: `"${origin}" is not an origin like https://meet.example.org (scheme, host and optional port only)`,
    };
  }
  return { ok: true, value: url.origin };
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

// ---------------------------------------------------------------- command line and environment

export type CliCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'serve'; readonly config: Readonly<Config> };

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Turns command-line arguments (without `node` and the script) and environment variables into a
 * command. Precedence: flag, then environment variable, then default. Throws `ConfigError` for
 * unknown flags, unparsable values and invalid settings (all problems at once).
 */
export function parseCommandLine(argv: readonly string[], env: Environment = {}): CliCommand {
  const parseOptions: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  for (const spec of OPTIONS) {
    parseOptions[spec.flag] = {
      type: spec.kind === 'boolean' ? 'boolean' : 'string',
      ...(spec.repeatable ? { multiple: true } : {}),
    };
  }
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: parseOptions, strict: true, allowPositionals: false }));
  } catch (error) {
    // Node's message is long-winded after its first sentence.
    const message = error instanceof Error ? (error.message.split('. ')[0] ?? error.message) : String(error);
    throw new ConfigError([message.replace(/\.$/, '')]);
  }
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };

  const problems: string[] = [];
  const options: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const fromFlag = values[spec.flag];
    const fromEnv = env[spec.env];
    let parsed: unknown;
    if (fromFlag !== undefined) {
      parsed = parseValue(spec, fromFlag, `--${spec.flag}`, problems);
    } else if (fromEnv !== undefined && fromEnv !== '') {
      parsed = parseValue(spec, fromEnv, spec.env, problems);
    }
    if (parsed !== undefined) options[spec.key] = parsed;
  }
  let config: Readonly<Config>;
  try {
    config = resolveConfig(options as ConveneOptions);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError([...problems, ...error.problems]);
    throw error;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { kind: 'serve', config };
}

function parseValue(
  spec: OptionSpec,
  raw: string | boolean | (string | boolean)[],
  source: string,
  problems: string[],
): unknown {
  const texts = (Array.isArray(raw) ? raw : [raw]).map(String);
  switch (spec.kind) {
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const text = String(texts[0]).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(text)) return true;
      if (['0', 'false', 'no', 'off'].includes(text)) return false;
      problems.push(`${source} must be true or false (got ${JSON.stringify(texts[0])})`);
      return undefined;
    }
    case 'integer':
    case 'number': {
      const text = String(texts.at(-1)).trim();
      const pattern = spec.kind === 'integer' ? /^-?\d+$/ : /^-?\d+(?:\.\d+)?$/;
      if (!pattern.test(text)) {
        problems.push(
          `${source} must be ${spec.kind === 'integer' ? 'an integer' : 'a number'} (got ${JSON.stringify(text)})`,
        );
        return undefined;
      }
      return Number(text);
    }
    case 'list':
      return texts
        .flatMap((text) => text.split(','))
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'string':
      return String(texts.at(-1));
  }
}

/** The text `convene --help` prints: every option with its environment variable and default. */
export function helpText(): string {
  const lines = [
    `convene ${SERVER_VERSION}: self-hosted WebRTC meeting rooms (web app + signaling server)`,
    '',
    'Usage: convene [options]',
    '       npm start -- [options]      (from the repository)',
    '',
    'Every option can also be set by the environment variable shown; a flag wins over the environment.',
    '',
    'Options:',
  ];
  for (const spec of OPTIONS) {
    const flag = `--${spec.flag}${spec.valueName ? ` <${spec.valueName}>` : ''}`;
    lines.push(`  ${flag.padEnd(30)} env ${spec.env.padEnd(26)} default: ${formatDefault(spec.key)}`);
    for (const line of wrap(spec.description, 84)) lines.push(`      ${line}`);
  }
  lines.push(
    `  ${'-h, --help'.padEnd(30)} Show this help and exit.`,
    `  ${'-v, --version'.padEnd(30)} Print the version and exit.`,
    '',
    'Examples:',
    '  convene                                  http://localhost:8080 on this machine',
    '  convene --https                          https on every interface, for phones and laptops on the LAN',
    '  convene --port 9000 --ice-server stun:stun.example.org:3478',
    '',
    'Exit codes: 0 stopped cleanly (SIGTERM/SIGINT), 1 failed to start or crashed, 2 invalid configuration.',
  );
  return lines.join('\n');
}

function formatDefault(key: keyof Config): string {
  const value = DEFAULT_CONFIG[key];
  if (key === 'webRoot') return 'apps/web/dist of this installation';
  if (key === 'turnSecret') return 'random at each start';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  if (value === null) return 'none';
  return String(value);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
