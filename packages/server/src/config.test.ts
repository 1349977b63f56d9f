import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Config, DEFAULT_CONFIG, helpText, parseCommandLine, resolveConfig } from './config.js';
import { ConfigError } from './errors.js';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function serve(argv: string[], env: Record<string, string> = {}): Readonly<Config> {
  const command = parseCommandLine(argv, env);
  if (command.kind !== 'serve') throw new Error(`expected serve, got ${command.kind}`);
  return command.config;
}

describe('resolveConfig', () => {
  it('fills everything from the documented defaults', () => {
    const config = resolveConfig();
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      https: false,
      tlsCertFile: null,
      tlsKeyFile: null,
      maxParticipants: 50,
      maxMessageBytes: 65_536,
      rateLimitPerSecond: 50,
      rateLimitBurst: 200,
      pingIntervalMs: 5_000,
      pingTimeoutMs: 12_000,
      joinTimeoutMs: 10_000,
      iceServers: [],
      allowedOrigins: [],
      logLevel: 'info',
    });
    expect(config.webRoot.replaceAll('\\', '/')).toMatch(/apps\/web\/dist$/);
    expect(isAbsolute(config.webRoot)).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('keeps given values, treats undefined as not given, and is idempotent', () => {
    const config = resolveConfig({ port: 0, maxParticipants: undefined, iceServers: ['stun:stun.example.org:3478'] });
    expect(config.port).toBe(0);
    expect(config.maxParticipants).toBe(DEFAULT_CONFIG.maxParticipants);
    expect(resolveConfig(config)).toEqual(config);
  });

  it('normalizes origins and turns certificate files into HTTPS', () => {
    const config = resolveConfig({
      allowedOrigins: ['https://Meet.Example.org/', 'https://meet.example.org:443', 'http://localhost:5173'],
      tlsCertFile: '/etc/cert.pem',
      tlsKeyFile: '/etc/key.pem',
    });
    expect(config.allowedOrigins).toEqual(['https://meet.example.org', 'http://localhost:5173']);
    expect(config.https).toBe(true);
  });

  it.each([
    [{ port: 70_000 }, '--port must be an integer from 0 to 65535 (got 70000)'],
    [{ port: 1.5 }, '--port must be an integer'],
    [{ maxParticipants: 0 }, '--max-participants must be an integer from 1'],
    [{ maxMessageBytes: 10 }, '--max-message-bytes must be an integer from 1024'],
    [{ rateLimitPerSecond: 0 }, '--rate-limit must be a number above 0'],
    [{ rateLimitBurst: 0 }, '--rate-burst must be an integer from 1'],
    [
      { pingIntervalMs: 5000, pingTimeoutMs: 5000 },
      '--ping-timeout (5000) must be greater than --ping-interval (5000)',
    ],
    [{ joinTimeoutMs: -1 }, '--join-timeout must be an integer from 10'],
    [{ host: '' }, '--host must be a host name or IP address'],
    [{ tlsCertFile: '/etc/cert.pem' }, '--tls-cert and --tls-key must be given together'],
    [{ iceServers: ['turn:turn.example.org'] }, 'TURN URL'],
    [{ iceServers: ['http://stun.example.org'] }, 'is not a STUN URL'],
    [{ iceServers: ['stun:stun.example.org:99999'] }, 'is not a STUN URL'],
    [{ allowedOrigins: ['meet.example.org'] }, 'is not an origin'],
    [{ allowedOrigins: ['https://meet.example.org/path'] }, 'is not an origin'],
    [{ allowedOrigins: ['ftp://meet.example.org'] }, 'is not an origin'],
    [{ logLevel: 'loud' as never }, '--log-level must be one of fatal, error, warn, info, debug, trace, silent'],
    [{ nonsense: 1 } as never, 'unknown option "nonsense"'],
  ])('rejects %j', (options, problem) => {
    expect(problemsOf(() => resolveConfig(options)).join('\n')).toContain(problem);
  });

  it('reports every problem at once', () => {
    expect(problemsOf(() => resolveConfig({ port: -1, maxParticipants: 0, logLevel: 'x' as never }))).toHaveLength(3);
  });

  it('accepts STUN URLs with hosts, IPv4, IPv6 and ports', () => {
    const iceServers = ['stun:stun.example.org', 'stun:192.0.2.1:3478', 'stuns:[2001:db8::1]:5349'];
    expect(resolveConfig({ iceServers }).iceServers).toEqual(iceServers);
  });
});

describe('parseCommandLine', () => {
  it('uses defaults with no arguments', () => {
    expect(serve([])).toEqual(resolveConfig());
  });

  it('reads every flag', () => {
    const config = serve([
      '--port=9000',
      '--host',
      '127.0.0.1',
      '--https',
      '--max-participants',
      '8',
      '--max-message-bytes',
      '32768',
      '--rate-limit',
      '2.5',
      '--rate-burst',
      '10',
      '--ping-interval',
      '1000',
      '--ping-timeout',
      '3000',
      '--join-timeout',
      '2000',
      '--shutdown-timeout',
      '100',
      '--ice-server',
      'stun:a.example.org',
      '--ice-server',
      'stun:b.example.org:3478',
      '--allowed-origins',
      'https://a.example.org, https://b.example.org',
      '--web-root',
      '/srv/convene',
      '--log-level',
      'debug',
    ]);
    expect(config).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      https: true,
      maxParticipants: 8,
      maxMessageBytes: 32_768,
      rateLimitPerSecond: 2.5,
      rateLimitBurst: 10,
      pingIntervalMs: 1000,
      pingTimeoutMs: 3000,
      joinTimeoutMs: 2000,
      shutdownTimeoutMs: 100,
      iceServers: ['stun:a.example.org', 'stun:b.example.org:3478'],
      allowedOrigins: ['https://a.example.org', 'https://b.example.org'],
      webRoot: '/srv/convene',
      logLevel: 'debug',
    });
  });

  it('reads environment variables, and flags win over them', () => {
    const env = {
      PORT: '7000',
      HOST: '::',
      CONVENE_HTTPS: 'yes',
      CONVENE_ICE_SERVERS: 'stun:a.example.org,stun:b.example.org',
      CONVENE_MAX_PARTICIPANTS: '4',
      CONVENE_LOG_LEVEL: 'warn',
    };
    expect(serve([], env)).toMatchObject({
      port: 7000,
      host: '::',
      https: true,
      iceServers: ['stun:a.example.org', 'stun:b.example.org'],
      maxParticipants: 4,
      logLevel: 'warn',
    });
    expect(serve(['--port', '7001', '--max-participants', '5'], env)).toMatchObject({ port: 7001, maxParticipants: 5 });
    expect(serve([], { PORT: '' }).port).toBe(8080);
    expect(serve([], { CONVENE_HTTPS: 'off' }).https).toBe(false);
  });

  it.each([
    [['--port', 'eighty'], '--port must be an integer (got "eighty")'],
    [['--rate-limit', 'fast'], '--rate-limit must be a number'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['--port'], "Option '--port <value>' argument missing"],
    [['serve'], 'Unexpected argument'],
    [['--ping-timeout', '1000'], '--ping-timeout (1000) must be greater than --ping-interval (5000)'],
  ])('rejects %j', (argv, problem) => {
    expect(problemsOf(() => parseCommandLine(argv, {})).join('\n')).toContain(problem);
  });

  it('names the environment variable when its value is bad', () => {
    expect(problemsOf(() => parseCommandLine([], { PORT: 'x', CONVENE_HTTPS: 'maybe' }))).toEqual([
      'PORT must be an integer (got "x")',
      'CONVENE_HTTPS must be true or false (got "maybe")',
    ]);
  });

  it('recognizes --help, -h, --version and -v', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-h', '--port', 'x'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
    expect(parseCommandLine(['-v'])).toEqual({ kind: 'version' });
  });
});

describe('helpText', () => {
  it('documents every option with its environment variable and default', () => {
    const help = helpText();
    for (const [flag, env, fallback] of [
      ['--port', 'PORT', '8080'],
      ['--host', 'HOST', '0.0.0.0'],
      ['--https', 'CONVENE_HTTPS', 'false'],
      ['--tls-cert', 'CONVENE_TLS_CERT', 'none'],
      ['--tls-key', 'CONVENE_TLS_KEY', 'none'],
      ['--max-participants', 'CONVENE_MAX_PARTICIPANTS', '50'],
      ['--max-message-bytes', 'CONVENE_MAX_MESSAGE_BYTES', '65536'],
      ['--rate-limit', 'CONVENE_RATE_LIMIT', '50'],
      ['--rate-burst', 'CONVENE_RATE_BURST', '200'],
      ['--ping-interval', 'CONVENE_PING_INTERVAL', '5000'],
      ['--ping-timeout', 'CONVENE_PING_TIMEOUT', '12000'],
      ['--join-timeout', 'CONVENE_JOIN_TIMEOUT', '10000'],
      ['--shutdown-timeout', 'CONVENE_SHUTDOWN_TIMEOUT', '5000'],
      ['--ice-server', 'CONVENE_ICE_SERVERS', 'none'],
      ['--allowed-origins', 'CONVENE_ALLOWED_ORIGINS', 'none'],
      ['--web-root', 'CONVENE_WEB_ROOT', 'apps/web/dist'],
      ['--log-level', 'CONVENE_LOG_LEVEL', 'info'],
    ] as const) {
      const line = help.split('\n').find((l) => l.trimStart().startsWith(`${flag} `) || l.trim() === flag);
      expect(line, flag).toBeDefined();
      expect(line).toContain(`env ${env} `);
      expect(line).toContain(`default: ${fallback}`);
    }
    expect(help).toContain('--help');
    expect(help).toContain('--version');
  });
});
