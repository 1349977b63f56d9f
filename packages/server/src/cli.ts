#!/usr/bin/env node
import { type CliCommand, helpText, parseCommandLine } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logger.js';
import { lanUrls, localUrl } from './network.js';
import { createConveneServer, TurnStartError } from './server.js';
import { hasWebApp } from './staticFiles.js';
import { SERVER_VERSION } from './version.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_BAD_CONFIG = 2;

/** Human-facing lines go to stderr so stdout carries only JSON log lines. */
function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function main(): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      say(`convene: ${error.message}`);
      say('Run "convene --help" for the options.');
      return EXIT_BAD_CONFIG;
    }
    throw error;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return EXIT_OK;
  }
  if (command.kind === 'version') {
    process.stdout.write(`${SERVER_VERSION}\n`);
    return EXIT_OK;
  }

  const { config } = command;
  const logger = createLogger(config.logLevel);
  const server = createConveneServer(config, { logger });
  let port: number;
  let turn: Awaited<ReturnType<typeof server.listen>>['turn'];
  try {
    ({ port, turn } = await server.listen());
  } catch (error) {
    if (error instanceof ConfigError) {
      say(`convene: ${error.message}`);
      return EXIT_BAD_CONFIG;
    }
    if (error instanceof TurnStartError) {
      if (error.code === 'EADDRINUSE') {
        say(
          `convene: the STUN/TURN port ${config.turnPort} is already in use (another TURN server such as coturn?); pick another with --turn-port, or run without TURN with --no-turn`,
        );
      } else say(`convene: ${error.message}`);
      return EXIT_FAILURE;
    }
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code === 'EADDRINUSE')
      say(`convene: port ${config.port} is already in use on ${config.host}; pick another with --port`);
    else if (code === 'EACCES')
      say(`convene: not allowed to listen on port ${config.port}; use a port above 1023 or run with the needed rights`);
    else if (code === 'EADDRNOTAVAIL') say(`convene: ${config.host} is not an address of this machine (--host)`);
    else say(`convene: could not start: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILURE;
  }

  const local = localUrl(config.host, port, config.https);
  const lan = lanUrls(config.host, port, config.https);
  logger.info({ local, lan }, 'open the app');
  say('');
  say(`  Convene ${SERVER_VERSION} is running.`);
  say(`  On this machine:   ${local}/`);
  for (const url of lan) say(`  On your network:   ${url}/`);
  const turnPorts = [...new Set(turn.filter((l) => l.transport !== 'tls').map((l) => l.port))];
  const turnTls = [...new Set(turn.filter((l) => l.transport === 'tls').map((l) => l.port))];
  if (turnPorts.length > 0) {
    say(
      `  STUN/TURN:         UDP and TCP port ${turnPorts.join(', ')}${turnTls.length > 0 ? `, TLS port ${turnTls.join(', ')}` : ''}; relay ports ${config.turnRelayPorts} (UDP)`,
    );
  } else if (config.turnUrls.length > 0) say(`  TURN:              external, ${config.turnUrls.join(' ')}`);
  else say('  TURN:              off (--no-turn): people behind strict NATs or firewalls may not connect');
  if (config.turnAllowLoopback) say('  Warning: --turn-allow-loopback is for tests only: TURN relays to this machine.');
  if (!hasWebApp(config.webRoot)) {
    say('');
    say(`  The web app is not built (no index.html in ${config.webRoot}): run "npm run build".`);
  }
  if (!config.https && lan.length > 0) {
    say('');
    say('  Note: browsers allow camera and microphone only on https:// or http://localhost.');
    say('  To join from other devices, restart with --https (or --tls-cert/--tls-key).');
  } else if (config.https && config.tlsCertFile === null) {
    say('');
    say('  The certificate is self-signed: each browser asks once to accept it.');
  }
  say('');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second Ctrl-C means "now".
        logger.warn({ signal }, 'second signal; exiting immediately');
        resolve(EXIT_FAILURE);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      server.close().then(
        () => resolve(EXIT_OK),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(EXIT_FAILURE);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
    // Timers or stray sockets must not keep a stopped server alive; the log is flushed first.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (error: unknown) => {
    say(`convene: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(EXIT_FAILURE);
  },
);
