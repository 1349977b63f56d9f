import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Debian `coturn` as the reference for integration tests (STYLE #17): `turnserver` to compare
 * against, `turnutils_peer` as the echo peer, `turnutils_uclient` as a client that drives any TURN
 * server. Tests run in a loopback-only network namespace, so every address here is 127.0.0.1.
 *
 * Every process is tracked and killed by its pid on close, on timeout, and when the test process
 * exits. What uclient sends and expects on the wire is summarised in bench/README.md
 * (`turn-relay.mjs`, "What turnutils_uclient does").
 */

const HOST = '127.0.0.1';
const OUTPUT_LIMIT = 1 << 20;

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

function binary(name: 'turnserver' | 'turnutils_uclient' | 'turnutils_peer'): string {
  const path = findBinary(name);
  if (!path) throw new Error(`${name} not found: install Debian coturn (tests guard with hasCoturn())`);
  return path;
}

/** True when turnserver, turnutils_uclient and turnutils_peer are all installed. */
export function hasCoturn(): boolean {
  return ['turnserver', 'turnutils_uclient', 'turnutils_peer'].every((name) => findBinary(name) !== undefined);
}

// ---------------------------------------------------------------------------------------------
// process bookkeeping: nothing outlives the test process

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killPid(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) killPid(c.pid, 'SIGKILL');
    });
  }
}

interface Spawned {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(file: string, args: string[]): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const append = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.length > OUTPUT_LIMIT) text = text.slice(-OUTPUT_LIMIT / 2);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
    child.once('error', reject);
    child.once('spawn', () => {
      if (child.pid === undefined) {
        reject(new Error(`${file} did not start`));
        return;
      }
      track(child);
      resolve({ child, pid: child.pid, output: () => text, exited });
    });
  });
}

/** SIGTERM by pid, SIGKILL after `graceMs`; resolves once the process has exited. */
async function stop(spawned: Spawned, graceMs = 2000): Promise<void> {
  const { child, pid } = spawned;
  if (child.exitCode !== null || child.signalCode !== null) return;
  killPid(pid, 'SIGTERM');
  const timer = setTimeout(() => killPid(pid, 'SIGKILL'), graceMs);
  await spawned.exited;
  clearTimeout(timer);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

// ---------------------------------------------------------------------------------------------
// ports and probes

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, HOST, () => socket.close(() => resolve(true)));
  });
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * A port number free on 127.0.0.1 for UDP and TCP, together with the next `span - 1` ports.
 * Chosen below coturn's relay range (49152–65535) so a relay allocation cannot take it later.
 */
export async function findFreePort(span = 1): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 25000);
    let ok = true;
    for (let p = base; p < base + span && ok; p++) ok = (await udpPortFree(p)) && (await tcpPortFree(p));
    if (ok) return base;
  }
  throw new Error('no free port found');
}

/** Sends one datagram and resolves with the first answer, or undefined after `timeoutMs`. */
function udpExchange(port: number, payload: Uint8Array, timeoutMs = 200): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (value: Buffer | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('message', (message) => done(message));
    socket.once('error', () => done(undefined));
    socket.send(payload, port, HOST);
  });
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: HOST });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A bare STUN Binding request (no attributes): every STUN server answers it without credentials. */
function bindingRequest(): Buffer {
  const message = Buffer.alloc(20);
  message.writeUInt16BE(0x0001, 0);
  message.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(message, 8);
  return message;
}

// ---------------------------------------------------------------------------------------------
// turnutils_peer

export interface TurnutilsPeerOptions {
  /** First of the two UDP ports the peer binds (it also binds port + 1). Default: a free pair. */
  port?: number;
  /** Readiness timeout. Default 5 s. */
  startTimeoutMs?: number;
}

export interface TurnutilsPeer {
  /** The peer echoes every datagram on `port` and on `port + 1` (uclient's "RTCP" sessions use the latter). */
  port: number;
  pid: number;
  close(): Promise<void>;
}

/** Starts turnutils_peer (a UDP echo on 127.0.0.1:port and :port+1) and waits until both ports echo. */
export async function startTurnutilsPeer(options: TurnutilsPeerOptions = {}): Promise<TurnutilsPeer> {
  const port = options.port ?? (await findFreePort(2));
  const spawned = await start(binary('turnutils_peer'), ['-L', HOST, '-p', String(port)]);
  const close = () => stop(spawned);
  try {
    const probe = Buffer.from('convene-peer-probe');
    await until(`turnutils_peer on ${port}`, options.startTimeoutMs ?? 5000, async () => {
      if (spawned.child.exitCode !== null) throw new Error(`turnutils_peer exited: ${spawned.output()}`);
      const a = await udpExchange(port, probe);
      const b = a && (await udpExchange(port + 1, probe));
      return a && b ? true : undefined;
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { port, pid: spawned.pid, close };
}

// ---------------------------------------------------------------------------------------------
// turnserver

export interface CoturnOptions {
  /** UDP + TCP listening port. Default 3478; 0 picks a free one. */
  port?: number;
  /** REST API shared secret (`--use-auth-secret --static-auth-secret`). Default 'S'. */
  secret?: string;
  /** Default 'test'. */
  realm?: string;
  /** Enables TLS on `tls.port` (default port + 1) with this certificate and key (PEM files). */
  tls?: { cert: string; key: string; port?: number };
  /** `--relay-threads`; coturn's default is one per CPU (0 = single-threaded). */
  relayThreads?: number;
  /** `-V`: coturn's verbose log (kept in memory, see `output()`). */
  verbose?: boolean;
  /** Appended to the command line. */
  extraArgs?: string[];
  /** Readiness timeout. Default 10 s. */
  startTimeoutMs?: number;
}

export interface CoturnServer {
  port: number;
  tlsPort: number | undefined;
  pid: number;
  /** The exact command line, for messages and reports. */
  args: string[];
  /** Everything turnserver logged so far (stdout + stderr, last 1 MB). */
  output(): string;
  close(): Promise<void>;
}

/** The turnserver command line the project compares against (TESTING.md), for reuse by benches. */
export function coturnArgs(options: CoturnOptions & { port: number; pidFile: string }): string[] {
  const args = [
    '-n',
    `--listening-ip=${HOST}`,
    `--relay-ip=${HOST}`,
    `--listening-port=${options.port}`,
    '--allow-loopback-peers',
    '--no-cli',
    '--no-dtls',
    '--fingerprint',
    `--realm=${options.realm ?? 'test'}`,
    '--use-auth-secret',
    `--static-auth-secret=${options.secret ?? 'S'}`,
    // log to stdout (captured) instead of /var/log/turn_<pid>_<date>.log, pid file in our temp dir
    '--log-file=stdout',
    `--pidfile=${options.pidFile}`,
  ];
  if (options.tls) {
    args.push(
      `--tls-listening-port=${options.tls.port ?? options.port + 1}`,
      `--cert=${options.tls.cert}`,
      `--pkey=${options.tls.key}`,
    );
  } else {
    args.push('--no-tls');
  }
  if (options.relayThreads !== undefined) args.push(`--relay-threads=${options.relayThreads}`);
  if (options.verbose) args.push('-V');
  args.push(...(options.extraArgs ?? []));
  return args;
}

/** Starts coturn on 127.0.0.1 and resolves once it answers STUN over UDP and accepts TCP (and TLS). */
export async function startCoturn(options: CoturnOptions = {}): Promise<CoturnServer> {
  const port = options.port === 0 ? await findFreePort(2) : (options.port ?? 3478);
  const tlsPort = options.tls ? (options.tls.port ?? port + 1) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'convene-coturn-'));
  const args = coturnArgs({ ...options, port, pidFile: join(dir, 'turnserver.pid') });
  let spawned: Spawned;
  try {
    spawned = await start(binary('turnserver'), args);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const close = async () => {
    await stop(spawned);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(`turnserver on ${port}`, options.startTimeoutMs ?? 10_000, async () => {
      if (spawned.child.exitCode !== null) throw new Error(`turnserver exited: ${spawned.output().slice(-4000)}`);
      if (!(await udpExchange(port, bindingRequest()))) return undefined;
      if (!(await tcpAccepts(port))) return undefined;
      if (tlsPort !== undefined && !(await tcpAccepts(tlsPort))) return undefined;
      return true;
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { port, tlsPort, pid: spawned.pid, args, output: spawned.output, close };
}

// ---------------------------------------------------------------------------------------------
// turnutils_uclient

export interface UclientOptions {
  /** The TURN server's port on 127.0.0.1 (`-p`). */
  serverPort: number;
  /** REST API shared secret (`-W`): uclient derives username = expiry timestamp, password = HMAC. */
  secret: string;
  /** turnutils_peer's first port (`-e 127.0.0.1 -r`). Unused by the server path with `-y` in extraArgs. */
  peerPort: number;
  /** `-t`: TCP to the server (the relay itself stays UDP). */
  tcp?: boolean;
  /** `-t -S`: TLS over TCP to the server (serverPort must then be the TLS port). */
  tls?: boolean;
  /** `-n`, messages per session (default 5). */
  messages?: number;
  /**
   * `-m`, number of sessions (allocations that carry data). uclient rounds it up to even unless `-c`
   * is in extraArgs (each client is an RTP + an RTCP session), to a multiple of 4 with `-y`.
   */
  clients?: number;
  /** `-l`, payload bytes per message (default 100). */
  length?: number;
  /**
   * Ignored: uclient has no realm option, it answers with whatever REALM the server's 401 names.
   * Accepted so one options object can describe both the server and the client.
   */
  realm?: string;
  /**
   * `-L`: the client's source address, e.g. '127.0.0.2' (any 127/8 address is loopback). Useful when
   * many runs share one server: over UDP uclient leaves a "probe" allocation behind per client and
   * closes its socket, so a later run whose socket gets the same port lands on that stale allocation
   * (437 Allocation Mismatch, or a ChannelBind 400 that makes uclient exit 255).
   */
  localAddress?: string;
  /** Appended before the server address, e.g. ['-c'], ['-y'], ['-s'], ['-z', '5'], ['-v']. */
  extraArgs?: string[];
  /** Kill uclient (SIGKILL, by pid) and reject after this long. Default: 30 s + messages × interval. */
  timeoutMs?: number;
}

export interface UclientResult {
  /** 0 when uclient ran to the end (even with losses), 255 for a setup failure, -1 when killed by a signal. */
  exitCode: number;
  /** Messages sent (client → server → peer), uclient's final `tot_send_msgs`. */
  sent: number;
  /** Echoes received back (peer → server → client), `tot_recv_msgs` (uclient caps it at `sent`). */
  received: number;
  /** `sent - received`, as uclient's "Total lost packets". */
  lost: number;
  /** Whether the final summary was printed at all (false: a setup failure; then sent/received/lost are 0). */
  completed: boolean;
  /** uclient's "Average round trip delay" (ms granularity clock), undefined without summary. */
  averageRttMs: number | undefined;
  /** Wall time of the uclient process. */
  durationMs: number;
  args: string[];
  /** stdout + stderr. */
  output: string;
}

/** Parses turnutils_uclient's final summary lines (tot_send_msgs/tot_recv_msgs, Total lost packets). */
export function parseUclientOutput(
  output: string,
): Pick<UclientResult, 'sent' | 'received' | 'lost' | 'completed' | 'averageRttMs'> {
  // The final totals line is the only one without "msz=".
  const totals = [...output.matchAll(/start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/gm)].at(-1);
  const lostLine = /Total lost packets (\d+) \(/.exec(output);
  const rtt = /Average round trip delay ([\d.]+) ms/.exec(output);
  if (!totals || !lostLine) return { sent: 0, received: 0, lost: 0, completed: false, averageRttMs: undefined };
  const sent = Number(totals[1]);
  const received = Math.min(Number(totals[2]), sent);
  return {
    sent,
    received,
    lost: Number(lostLine[1]),
    completed: true,
    averageRttMs: rtt ? Number(rtt[1]) : undefined,
  };
}

/** The uclient command line for these options (the server address is the last argument). */
export function uclientArgs(options: UclientOptions): string[] {
  const args: string[] = [];
  if (options.localAddress) args.push('-L', options.localAddress);
  if (options.tcp || options.tls) args.push('-t');
  if (options.tls) args.push('-S');
  args.push('-p', String(options.serverPort), '-W', options.secret, '-e', HOST, '-r', String(options.peerPort));
  args.push(
    '-n',
    String(options.messages ?? 5),
    '-m',
    String(options.clients ?? 1),
    '-l',
    String(options.length ?? 100),
  );
  args.push(...(options.extraArgs ?? []), HOST);
  return args;
}

function intervalOf(extraArgs: string[] | undefined): number {
  const index = extraArgs?.indexOf('-z') ?? -1;
  const value = index >= 0 ? Number(extraArgs?.[index + 1]) : Number.NaN;
  return Number.isFinite(value) ? value : 20;
}

/**
 * Runs turnutils_uclient against 127.0.0.1:serverPort and parses its summary. Resolves with the exit
 * code and counts (check `lost` yourself: uclient exits 0 even at 100% loss); rejects on timeout
 * (uclient never retransmits, so a server that does not answer makes it hang) after killing it.
 * A run takes ≥ 1–6 s more than messages × interval: uclient starts each session at a random offset.
 * Rare flake to know about: per session uclient binds a random channel number for the peer's port + 1
 * and then a new random one for the peer's port; if both are equal (1 in 16,384 sessions) the server
 * answers 400 and uclient exits 255 ("channel bind: error 400 ... same channel number").
 */
export async function runUclient(options: UclientOptions): Promise<UclientResult> {
  const args = uclientArgs(options);
  const timeoutMs = options.timeoutMs ?? 30_000 + (options.messages ?? 5) * intervalOf(options.extraArgs);
  const started = Date.now();
  const spawned = await start(binary('turnutils_uclient'), args);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([spawned.exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    killPid(spawned.pid, 'SIGKILL');
    await spawned.exited;
    throw new Error(
      `turnutils_uclient ${args.join(' ')} did not finish within ${timeoutMs} ms (killed); output:\n${spawned
        .output()
        .slice(-4000)}`,
    );
  }
  const output = spawned.output();
  const parsed = parseUclientOutput(output);
  return {
    exitCode: outcome.code ?? -1,
    ...parsed,
    durationMs: Date.now() - started,
    args,
    output,
  };
}
