// TURN servers under test (coturn, Convene's TURN server) and coturn's load tools, each in a child
// process of its own, for bench/turn-relay.mjs. Everything binds 127.0.0.1: run inside `unshare -n`.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startProcess } from './child.mjs';
import { sleep } from './stats.mjs';

export const HOST = '127.0.0.1';
export const CONVENE_TURN = join(ROOT, 'bench', 'lib', 'convene-turn.mjs');

export function which(name) {
  const result = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

export function coturnVersion() {
  const result = spawnSync('turnserver', ['--version'], { encoding: 'utf8' });
  return (result.stdout || result.stderr || '').trim().split('\n')[0] || 'unknown';
}

// ------------------------------------------------------------------ ports and probes

function udpPortFree(port) {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, HOST, () => socket.close(() => resolve(true)));
  });
}

function tcpPortFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** `span` consecutive ports free for UDP and TCP, below coturn's relay range (49152–65535). */
export async function freePorts(span = 1) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 25000);
    let ok = true;
    for (let p = base; p < base + span && ok; p++) ok = (await udpPortFree(p)) && (await tcpPortFree(p));
    if (ok) return base;
  }
  throw new Error('no free port');
}

function udpExchange(port, payload, timeoutMs = 200) {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (value) => {
      clearTimeout(timer);
      socket.close();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.once('message', (message) => done(message));
    socket.once('error', () => done(null));
    socket.send(payload, port, HOST);
  });
}

function tcpAccepts(port) {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: HOST });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function bindingRequest() {
  const message = Buffer.alloc(20);
  message.writeUInt16BE(0x0001, 0);
  message.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(message, 8);
  return message;
}

async function waitReady(what, proc, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(`${what} exited before it was ready:\n${proc.output().slice(-3000)}`);
    if (await probe()) return;
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`${what} not ready within ${timeoutMs} ms:\n${proc.output().slice(-3000)}`);
    }
    await sleep(25);
  }
}

// ------------------------------------------------------------------ servers (adapters)

/**
 * coturn, configured as TESTING.md says plus: logs to stdout (kept in memory, not /var/log), its
 * pid file in a temp dir, and `--relay-threads` when given (coturn's default: one per CPU).
 */
export async function startCoturn({ port, secret, realm, relayThreads, extraArgs = [] }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-coturn-'));
  const args = [
    '-n',
    `--listening-ip=${HOST}`,
    `--relay-ip=${HOST}`,
    `--listening-port=${port}`,
    '--allow-loopback-peers',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--fingerprint',
    `--realm=${realm}`,
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--log-file=stdout',
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    ...(relayThreads === undefined ? [] : [`--relay-threads=${relayThreads}`]),
    ...extraArgs,
  ];
  const proc = startProcess('turnserver', args);
  await waitReady(
    'turnserver',
    proc,
    15_000,
    async () => (await udpExchange(port, bindingRequest())) && tcpAccepts(port),
  );
  return {
    name: 'coturn',
    port,
    pid: proc.pid,
    command: ['turnserver', ...args].join(' '),
    output: proc.output,
    stop: async () => {
      const result = await proc.stop();
      rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
}

export function conveneTurnAvailable(script = CONVENE_TURN) {
  return existsSync(script);
}

/** `node bench/lib/convene-turn.mjs --port p --secret s --realm r --allow-loopback`; ready on `listening <port>`. */
export async function startConveneTurn({ port, secret, realm, nodeArgs = [], script = CONVENE_TURN }) {
  let listening = null;
  const args = [...nodeArgs, script, '--port', String(port), '--secret', secret, '--realm', realm, '--allow-loopback'];
  const proc = startProcess(process.execPath, args, {
    onLine: (line) => {
      const match = /^listening (\d+)/.exec(line.trim());
      if (match) listening = Number(match[1]);
    },
  });
  await waitReady('convene-turn', proc, 20_000, async () => listening !== null);
  return {
    name: 'convene',
    port: listening || port,
    pid: proc.pid,
    command: ['node', ...args].join(' '),
    output: proc.output,
    stop: () => proc.stop(5000),
  };
}

// ------------------------------------------------------------------ coturn's load tools

/** turnutils_peer: a UDP echo on port and port + 1. */
export async function startPeer(port) {
  const proc = startProcess('turnutils_peer', ['-L', HOST, '-p', String(port)]);
  const probe = Buffer.from('bench-peer-probe');
  await waitReady(
    'turnutils_peer',
    proc,
    5000,
    async () => (await udpExchange(port, probe)) && (await udpExchange(port + 1, probe)),
  );
  return { port, pid: proc.pid, stop: () => proc.stop() };
}

/**
 * turnutils_uclient, with its progress parsed as it streams: `progress` holds one entry per line
 * `tot_send_msgs=…, tot_recv_msgs=…` with the time it arrived (hrtime ns), `connectedAt` the time
 * "Total connect time" arrived (allocations done; sending starts 1–6 s later per session).
 */
export function startUclient(args) {
  const state = { progress: [], connectedAt: null };
  const proc = startProcess('turnutils_uclient', args, {
    onLine: (line, at) => {
      if (state.connectedAt === null && line.includes('Total connect time')) state.connectedAt = at;
      const match = /msz=\d+, tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/.exec(line);
      if (match) state.progress.push({ at, sent: Number(match[1]), received: Number(match[2]) });
    },
  });
  return { ...proc, state, args };
}

/** The final summary of a uclient run (see bench/README.md). */
export function parseUclientSummary(output) {
  const totals = [...output.matchAll(/start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/gm)].at(-1);
  const lost = /Total lost packets (\d+) \(/.exec(output);
  const rtt = /Average round trip delay ([\d.]+) ms; min = (\d+) ms, max = (\d+) ms/.exec(output);
  if (!totals || !lost) return null;
  const sent = Number(totals[1]);
  return {
    sent,
    received: Math.min(sent, Number(totals[2])),
    lost: Number(lost[1]),
    rttAvgMs: rtt ? Number(rtt[1]) : null,
    rttMaxMs: rtt ? Number(rtt[3]) : null,
  };
}

/** Cumulative sent/received of one uclient at time `at` (hrtime ns), linear between progress lines. */
export function countsAt(progress, at) {
  if (progress.length === 0) return { sent: 0, received: 0 };
  let before = null;
  let after = null;
  for (const point of progress) {
    if (point.at <= at) before = point;
    else {
      after = point;
      break;
    }
  }
  if (!before) return { sent: 0, received: 0 };
  if (!after) return { sent: before.sent, received: before.received };
  const f = Number(at - before.at) / Number(after.at - before.at);
  return {
    sent: before.sent + f * (after.sent - before.sent),
    received: before.received + f * (after.received - before.received),
  };
}

// ------------------------------------------------------------------ sockets and counters

/**
 * Number of UDP and TCP sockets a process holds (each TURN allocation holds one UDP relay socket),
 * and `udpDrops`: datagrams its UDP sockets dropped because their receive buffer was full. Relay
 * sockets close with their allocation, and their counts with them: pass a Map (inode → drops) and
 * call this periodically to keep the highest count seen per socket.
 */
export function socketCounts(pid, perSocketDrops) {
  const inodes = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]);
      } catch {}
    }
  } catch {
    return { udp: Number.NaN, tcp: Number.NaN, udpDrops: Number.NaN };
  }
  const count = (tables) => {
    let n = 0;
    let drops = 0;
    for (const table of tables) {
      let text = '';
      try {
        text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        if (fields.length >= 10 && inodes.has(fields[9])) {
          n++;
          // udp tables end with "ref pointer drops"
          if (fields.length >= 13) {
            drops += Number(fields[12]);
            perSocketDrops?.set(fields[9], Math.max(perSocketDrops.get(fields[9]) ?? 0, Number(fields[12])));
          }
        }
      }
    }
    return { n, drops };
  };
  const udp = count(['udp', 'udp6']);
  return { udp: udp.n, tcp: count(['tcp', 'tcp6']).n, udpDrops: udp.drops };
}

/** The namespace's UDP counters (/proc/net/snmp): datagrams in/out, and drops at full receive buffers. */
export function udpCounters() {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('Udp:'));
  const names = lines[0].split(/\s+/).slice(1);
  const values = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((name, i) => [name, values[i]]));
}

// ------------------------------------------------------------------ CPU accounting

/**
 * CPU of named processes, of every other process, and of the machine — robust to tick-synchronised
 * load. uclient sends from a 1 ms timer, so the work runs right after each timer tick: /proc/stat's
 * tick-sampled user/system counters then miss most of it (measured: 12 busy ticks against 258 ticks
 * charged to the processes in the same 5 s). Per-process utime/stime are precise (from the scheduler's
 * runtime), and so is idle time (NOHZ idle accounting): machine busy = cores × wall − idle − iowait.
 * Returns % of one core: each name's CPU (user/sys split), `otherProcsPct` (every other user-space
 * process, from a scan of /proc), `kernelThreadsPct` (ksoftirqd/kworker: network work deferred out
 * of the processes' own system calls), `reapedChildrenPct` (whole lives of children that ended in
 * the window: short-lived jobs, an upper bound), `unaccountedPct` (busy time charged to nobody:
 * softirq in interrupt context, processes born and gone in the window) and the busy % of each CPU.
 */
export function startPreciseCpuSample(named) {
  const ticksPerS = 100;
  const ours = new Set(named.map(([, pid]) => pid));
  const scan = () => {
    const all = new Map();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        all.set(Number(entry), {
          user: Number(f[11]),
          sys: Number(f[12]),
          children: Number(f[13]) + Number(f[14]),
          kernel: f[1] === '2' || f[1] === '0', // kernel threads (ksoftirqd, kworker: deferred network work)
        });
      } catch {}
    }
    return all;
  };
  const idle = () =>
    readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .filter((line) => /^cpu\d* /.test(line))
      .map((line) => {
        const v = line.trim().split(/\s+/).slice(1).map(Number);
        return v[3] + v[4];
      });
  const start = { at: process.hrtime.bigint(), procs: scan(), idle: idle() };
  return () => {
    const wallS = Number(process.hrtime.bigint() - start.at) / 1e9;
    const procs = scan();
    const idleNow = idle();
    const pct = (ticks) => (100 * ticks) / ticksPerS / wallS;
    const out = { seconds: wallS, processes: {}, user: {}, sys: {} };
    let oursTicks = 0;
    for (const [name, pid] of named) {
      const a = start.procs.get(pid);
      const b = procs.get(pid);
      const user = a && b ? b.user - a.user : 0;
      const sys = a && b ? b.sys - a.sys : 0;
      oursTicks += user + sys;
      out.processes[name] = (out.processes[name] ?? 0) + pct(user + sys);
      out.user[name] = (out.user[name] ?? 0) + pct(user);
      out.sys[name] = (out.sys[name] ?? 0) + pct(sys);
    }
    let otherTicks = 0;
    let kernelTicks = 0;
    let reapedTicks = 0;
    for (const [pid, b] of procs) {
      if (ours.has(pid) || pid === process.pid) continue;
      const a = start.procs.get(pid);
      if (!a) continue;
      if (b.kernel) kernelTicks += b.user + b.sys - a.user - a.sys;
      else otherTicks += b.user + b.sys - a.user - a.sys;
      // Children that ended in the window (their whole life, so an upper bound for the window).
      reapedTicks += Math.max(0, b.children - a.children);
    }
    const orchestrator = (() => {
      const a = start.procs.get(process.pid);
      const b = procs.get(process.pid);
      return a && b ? b.user + b.sys - a.user - a.sys : 0;
    })();
    const wallTicks = wallS * ticksPerS;
    const busyPerCpu = idleNow.slice(1).map((v, i) => Math.max(0, wallTicks - (v - start.idle[i + 1])));
    const busyTicks = busyPerCpu.reduce((a, b) => a + b, 0);
    out.orchestratorPct = pct(orchestrator);
    out.otherProcsPct = pct(otherTicks);
    out.kernelThreadsPct = pct(kernelTicks);
    out.reapedChildrenPct = pct(reapedTicks);
    out.unaccountedPct = Math.max(0, pct(busyTicks - oursTicks - otherTicks - kernelTicks - orchestrator));
    out.machineBusyPct = (100 * busyTicks) / (wallTicks * busyPerCpu.length);
    out.perCpuBusyPct = busyPerCpu.map((ticks) => (100 * ticks) / wallTicks);
    return out;
  };
}

/** Thread count of a process. */
export function threadCount(pid) {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return Number.NaN;
  }
}
