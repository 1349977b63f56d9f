#!/usr/bin/env node
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, networkInterfaces, rssBytes } from './lib/proc.mjs';
import { saveResults } from './lib/results.mjs';
import { ROOT } from './lib/servers.mjs';
import { fmt, int, median, sleep, table } from './lib/stats.mjs';
import {
  CONVENE_TURN,
  conveneTurnAvailable,
  coturnVersion,
  countsAt,
  freePorts,
  HOST,
  parseUclientSummary,
  socketCounts,
  startConveneTurn,
  startCoturn,
  startPeer,
  startPreciseCpuSample,
  startUclient,
  threadCount,
  udpCounters,
  which,
} from './lib/turn-servers.mjs';

const { values: opts } = parseArgs({
  options: {
    servers: { type: 'string', default: 'coturn,convene' },
    repeats: { type: 'string', default: '5' },
    sessions: { type: 'string', default: '100' },
    length: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '2' },
    measure: { type: 'string', default: '10' },
    uclients: { type: 'string', default: '1' },
    transport: { type: 'string', default: 'udp' },
    rtcp: { type: 'boolean', default: false },
    'coturn-relay-threads': { type: 'string' },
    'convene-script': { type: 'string', default: CONVENE_TURN },
    'convene-node-args': { type: 'string', default: '' },
    memory: { type: 'string', default: 'on' },
    'memory-sessions': { type: 'string', default: '100,1000' },
    'memory-repeats': { type: 'string', default: '3' },
    'quiet-threshold': { type: 'string', default: '25' },
    retries: { type: 'string', default: '2' },
    secret: { type: 'string', default: 'bench-secret' },
    realm: { type: 'string', default: 'bench' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(`usage: node bench/turn-relay.mjs [options]   (inside unshare -n, see bench/README.md)
  --servers LIST        coturn,convene (default both; interleaved per repeat, who goes first alternates).
                        convene = node bench/lib/convene-turn.mjs --port P --secret S --realm R --allow-loopback
  --repeats N           measurements per server (default 5; medians are quoted)
  --sessions N          uclient -m: relayed sessions (allocations carrying data) per uclient (default 100)
  --length BYTES        uclient -l: payload per message (default 1000)
  --interval MS         uclient -z: per-session send interval (default 2 → 500 msg/s per session)
  --measure S           measured window, all sessions sending (default 10). uclient -n is derived from it
  --uclients N          parallel uclient processes, each with --sessions (default 1)
  --transport udp|tcp   client ↔ server transport (uclient -t); the relay is UDP either way (default udp)
  --rtcp                keep uclient's RTCP sessions (EVEN-PORT R=1 + RESERVATION-TOKEN pairs); default off (-c)
  --coturn-relay-threads N   coturn --relay-threads (default: unset = coturn's default, one per CPU)
  --convene-script FILE      the Convene adapter script (default bench/lib/convene-turn.mjs)
  --convene-node-args="ARGS" node flags for it, e.g. "--max-semi-space-size=16"
  --memory on|off       also measure RSS per allocation (default on), in the first --memory-repeats
                        repeats (default 3)
  --memory-sessions A,B sessions held open (uclient -h) for the memory steps (default 100,1000; split
                        over parallel uclients of ≤ 250 sessions: uclient spends 100 ms per session on setup)
  --quiet-threshold P   before a measurement, wait (≤ 15 s) until other processes use < P% of a core;
                        re-run it (≤ --retries, default 2) if they used more during the window (default 25)
  --secret S --realm R  credentials (REST API shared secret) given to both servers
  --out FILE            JSON results (default bench/.runs/turn-relay-<time>.json)`);
  process.exit(0);
}

const config = {
  servers: opts.servers.split(',').filter(Boolean),
  repeats: Number(opts.repeats),
  sessions: Number(opts.sessions),
  length: Number(opts.length),
  intervalMs: Number(opts.interval),
  measureS: Number(opts.measure),
  uclients: Number(opts.uclients),
  transport: opts.transport,
  rtcp: opts.rtcp,
  coturnRelayThreads: opts['coturn-relay-threads'] === undefined ? undefined : Number(opts['coturn-relay-threads']),
  conveneScript: opts['convene-script'],
  conveneNodeArgs: opts['convene-node-args'].split(' ').filter(Boolean),
  memory: opts.memory !== 'off',
  memorySessions: opts['memory-sessions'].split(',').map(Number),
  memoryRepeats: Number(opts['memory-repeats']),
  quietThreshold: Number(opts['quiet-threshold']),
  retries: Number(opts.retries),
  secret: opts.secret,
  realm: opts.realm,
};
// Sessions start sending 1–6 s after uclient's setup ("Total connect time"), at random. The window
// opens once all of them send (+ SETTLE_S) and closes before the first one stops.
const START_SPREAD_S = 6;
const SETTLE_S = 1;
config.messages = Math.ceil(((START_SPREAD_S + SETTLE_S + config.measureS + 1.5) * 1000) / config.intervalMs);
// uclient rounds -m up to even when it keeps RTCP sessions (an RTP + an RTCP session per client).
config.effectiveSessions = config.rtcp ? config.sessions + (config.sessions % 2) : config.sessions;
config.offeredPerS = (config.uclients * config.effectiveSessions * 1000) / config.intervalMs;
const MEMORY_SESSIONS_PER_UCLIENT = 250;
const harnessFailures = [];

/**
 * A source address of its own for every uclient process of the run (127.1.x.y: all of 127/8 is
 * loopback). uclient leaves its UDP "probe" allocations on the server and closes their sockets; a
 * later socket that gets the same port from the kernel then lands on a stale allocation (437, or a
 * ChannelBind 400 that ends uclient). Own addresses confine that to a uclient's own probes.
 */
let sourceCounter = 0;
function nextSourceAddress() {
  sourceCounter++;
  return `127.1.${Math.floor(sourceCounter / 250) % 250}.${(sourceCounter % 250) + 1}`;
}

function uclientArgs({ serverPort, peerPort, sessions, messages, hang = false, transport = config.transport }) {
  return [
    '-L',
    nextSourceAddress(),
    ...(transport === 'tcp' ? ['-t'] : []),
    ...(config.rtcp ? [] : ['-c']),
    ...(hang ? ['-h'] : []),
    '-p',
    String(serverPort),
    '-W',
    config.secret,
    // REST username `<expiry>:bench`: Convene refuses a bare `<expiry>` (its quota is per user).
    '-u',
    'bench',
    '-e',
    HOST,
    '-r',
    String(peerPort),
    '-m',
    String(sessions),
    '-n',
    String(messages),
    '-l',
    String(config.length),
    '-z',
    String(config.intervalMs),
    HOST,
  ];
}

async function startServer(name, port) {
  const credentials = { port, secret: config.secret, realm: config.realm };
  if (name === 'coturn') return startCoturn({ ...credentials, relayThreads: config.coturnRelayThreads });
  if (name === 'convene')
    return startConveneTurn({ ...credentials, script: config.conveneScript, nodeArgs: config.conveneNodeArgs });
  throw new Error(`unknown server ${name} (coturn, convene)`);
}

/** Other processes' CPU over 1 s, as % of one core (a /proc scan: see startPreciseCpuSample). */
async function othersCpu() {
  const stop = startPreciseCpuSample([]);
  await sleep(1000);
  const cpu = stop();
  return cpu.otherProcsPct + cpu.reapedChildrenPct + cpu.unaccountedPct;
}

async function waitQuiet() {
  const deadline = Date.now() + 15_000;
  let other = await othersCpu();
  while (other >= config.quietThreshold && Date.now() < deadline) other = await othersCpu();
  return other;
}

const hr = () => process.hrtime.bigint();
const seconds = (ns) => Number(ns) / 1e9;
async function sleepUntil(at) {
  for (;;) {
    const left = Number(at - hr()) / 1e6;
    if (left <= 0) return;
    await sleep(Math.min(left, 200));
  }
}

// ------------------------------------------------------------------ one measurement

async function throughput(name) {
  const quietBefore = await waitQuiet();
  const server = await startServer(name, await freePorts(1));
  const peer = await startPeer(await freePorts(2));
  const uclients = [];
  const cleanups = [];
  try {
    const idle = { rss: rssBytes(server.pid), threads: threadCount(server.pid), sockets: socketCounts(server.pid) };
    const udpBefore = udpCounters();
    // Drops at the server's own sockets (receive buffer full: it did not read fast enough), polled
    // because relay sockets, and their counters, go away with their allocations.
    const serverDrops = new Map();
    const dropPoll = setInterval(() => socketCounts(server.pid, serverDrops), 1000);
    cleanups.push(() => clearInterval(dropPoll));
    for (let i = 0; i < config.uclients; i++)
      uclients.push(
        startUclient(
          uclientArgs({
            serverPort: server.port,
            peerPort: peer.port,
            sessions: config.sessions,
            messages: config.messages,
          }),
        ),
      );
    // Setup: every uclient has its allocations and channels.
    const setupDeadline = Date.now() + 60_000;
    while (uclients.some((u) => u.state.connectedAt === null)) {
      const dead = uclients.find((u) => u.child.exitCode !== null);
      if (dead) throw new Error(`uclient exited during setup (${dead.child.exitCode}):\n${dead.output().slice(-2000)}`);
      if (Date.now() > setupDeadline) throw new Error('uclient setup took > 60 s');
      await sleep(20);
    }
    // hrtime bigints: Math.min/max do not take them.
    const connected = uclients.map((u) => u.state.connectedAt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const earliest = connected[0];
    const latest = connected.at(-1);
    const windowStart = latest + BigInt((START_SPREAD_S + SETTLE_S) * 1e9);
    const windowEnd = windowStart + BigInt(config.measureS * 1e9);
    const sendEnd = earliest + BigInt(Math.round((1 + (config.messages * config.intervalMs) / 1000) * 1e9));
    if (windowEnd > sendEnd) throw new Error('window does not fit in the sending phase (uclient setups too far apart)');
    const setup = { atS: seconds(latest - earliest), sockets: socketCounts(server.pid), rss: rssBytes(server.pid) };

    await sleepUntil(windowStart);
    // Drops before the load (setup) are not counted: coturn's sockets show some at every client's
    // first packet (2 per uclient client: its sk_drops count more than full receive buffers).
    socketCounts(server.pid, serverDrops);
    const dropsAtStart = new Map(serverDrops);
    const stopCpu = startPreciseCpuSample([
      ['server', server.pid],
      ...uclients.map((u) => ['uclient', u.pid]),
      ['peer', peer.pid],
    ]);
    const t0 = hr();
    await sleepUntil(windowEnd);
    const cpu = stopCpu();
    const t1 = hr();
    const loaded = { rss: rssBytes(server.pid), threads: threadCount(server.pid), sockets: socketCounts(server.pid) };

    // Wait for every uclient to finish (all echoes back, or 10 s after its last send).
    const finishTimeoutMs = (config.messages * config.intervalMs + 60_000) * 2;
    let finishTimer;
    const finished = await Promise.race([
      Promise.all(uclients.map((u) => u.exited)),
      new Promise((resolve) => {
        finishTimer = setTimeout(() => resolve(null), finishTimeoutMs);
      }),
    ]);
    clearTimeout(finishTimer); // else it keeps the process alive minutes after the last measurement
    if (!finished) throw new Error(`uclient did not finish within ${finishTimeoutMs} ms`);
    const udpAfter = udpCounters();
    socketCounts(server.pid, serverDrops);
    clearInterval(dropPoll);
    // The rest of the namespace's drops happened at uclient's or the peer's sockets.
    let serverUdpDrops = 0;
    for (const [inode, drops] of serverDrops) serverUdpDrops += drops - (dropsAtStart.get(inode) ?? 0);
    const summaries = uclients.map((u) => parseUclientSummary(u.output()));
    const failed = summaries.indexOf(null);
    if (failed >= 0) throw new Error(`uclient printed no summary:\n${uclients[failed].output().slice(-2000)}`);

    const windowS = seconds(t1 - t0);
    let sentW = 0;
    let receivedW = 0;
    for (const u of uclients) {
      const a = countsAt(u.state.progress, t0);
      const b = countsAt(u.state.progress, t1);
      sentW += b.sent - a.sent;
      receivedW += b.received - a.received;
    }
    const sum = (key) => summaries.reduce((total, s) => total + s[key], 0);
    const sent = sum('sent');
    const received = sum('received');
    const serverCores = cpu.processes.server / 100;
    const relayedPerS = (sentW + receivedW) / windowS;
    return {
      server: name,
      command: server.command,
      quietBeforePct: quietBefore,
      windowS,
      offeredPerS: config.offeredPerS,
      sentPerS: sentW / windowS,
      receivedPerS: receivedW / windowS,
      // Both directions: client → peer (messages sent) and peer → client (echoes received).
      relayedPerS,
      relayedPerCpuSecond: relayedPerS / serverCores,
      mbitPerS: (relayedPerS * config.length * 8) / 1e6,
      sent,
      received,
      lost: sum('lost'),
      lossPct: sent ? (100 * (sent - received)) / sent : Number.NaN,
      rttAvgMs: median(summaries.map((s) => s.rttAvgMs)),
      rttMaxMs: Math.max(...summaries.map((s) => s.rttMaxMs)),
      udpRcvbufErrors: udpAfter.RcvbufErrors - udpBefore.RcvbufErrors,
      serverUdpDrops,
      udpSndbufErrors: udpAfter.SndbufErrors - udpBefore.SndbufErrors,
      cpu: {
        serverPct: cpu.processes.server,
        serverUserPct: cpu.user.server,
        serverSysPct: cpu.sys.server,
        uclientPct: cpu.processes.uclient,
        peerPct: cpu.processes.peer,
        orchestratorPct: cpu.orchestratorPct,
        // Every other process on the machine (a /proc scan), and busy time charged to no process.
        otherPct: cpu.otherProcsPct,
        reapedChildrenPct: cpu.reapedChildrenPct,
        kernelThreadsPct: cpu.kernelThreadsPct,
        unaccountedPct: cpu.unaccountedPct,
        machineBusyPct: cpu.machineBusyPct,
        perCpuBusyPct: cpu.perCpuBusyPct,
      },
      idle,
      setup,
      loaded,
      server_: server,
      peer_: peer,
    };
  } catch (error) {
    for (const u of uclients) u.kill();
    await peer.stop();
    await server.stop();
    throw error;
  } finally {
    for (const cleanup of cleanups) cleanup();
    for (const u of uclients) u.kill();
  }
}

/**
 * RSS per allocation: hold --memory-sessions allocations open (uclient -h: each session sends one
 * message, then keeps its allocation refreshed) and read the server's RSS; allocations are counted
 * as the server's UDP sockets (one relay socket each; uclient's probe allocations included).
 */
async function memory(server, peerPort) {
  const points = [];
  const holders = [];
  const snapshot = (label) => {
    const sockets = socketCounts(server.pid);
    points.push({ label, rss: rssBytes(server.pid), udpSockets: sockets.udp, tcpSockets: sockets.tcp });
  };
  try {
    await sleep(1000);
    snapshot('before');
    let held = 0;
    for (const total of config.memorySessions) {
      // uclient sets its sessions up one after the other, ≈ 100 ms each: split into parallel uclients.
      const step = [];
      for (let left = total - held; left > 0; left -= MEMORY_SESSIONS_PER_UCLIENT) {
        const sessions = Math.min(left, MEMORY_SESSIONS_PER_UCLIENT);
        step.push(
          startUclient(
            uclientArgs({ serverPort: server.port, peerPort, sessions, messages: 1, hang: true, transport: 'udp' }),
          ),
        );
      }
      holders.push(...step);
      held = total;
      const deadline = Date.now() + 120_000;
      while (step.some((u) => u.state.connectedAt === null)) {
        const dead = step.find((u) => u.child.exitCode !== null);
        if (dead) throw new Error(`memory uclient exited:\n${dead.output().slice(-2000)}`);
        if (Date.now() > deadline) throw new Error('memory uclient setup took > 120 s');
        await sleep(50);
      }
      // Every session sends its one message within 6 s of setup; then the state is steady.
      await sleep((START_SPREAD_S + 1.5) * 1000);
      snapshot(`${total} sessions held`);
    }
  } finally {
    for (const u of holders) u.kill();
    await Promise.all(holders.map((u) => u.exited));
  }
  const first = points[0];
  const last = points.at(-1);
  const prev = points.at(-2);
  return {
    points,
    perAllocationBytes: (last.rss - first.rss) / (last.udpSockets - first.udpSockets),
    marginalPerAllocationBytes: (last.rss - prev.rss) / (last.udpSockets - prev.udpSockets),
  };
}

/**
 * uclient itself fails now and then (exit 255 during setup): it binds a channel for the peer's port + 1,
 * then one with a new random number for the peer's port, and when the random number happens to be the
 * same one (1 in 16,384 per session) the server answers 400 and uclient gives up. Such a run says
 * nothing about the server: it is repeated (≤ UCLIENT_SETUP_RETRIES times) and recorded.
 */
const UCLIENT_SETUP_RETRIES = 3;
const uclientSetupFailures = [];

async function withUclientRetries(what, run) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!/uclient exited/.test(error.message) || attempt >= UCLIENT_SETUP_RETRIES) throw error;
      const reason = /error \d{3} \([^)]*\)/.exec(error.message)?.[0] ?? error.message.split('\n')[0];
      uclientSetupFailures.push({ what, reason });
      console.log(`    (uclient failed during setup: ${reason}; again)`);
    }
  }
}

async function measure(name, repeat) {
  let attempt = 0;
  for (;;) {
    const result = await withUclientRetries(`${name} throughput`, () => throughput(name));
    const { server_: server, peer_: peer } = result;
    delete result.server_;
    delete result.peer_;
    try {
      if (config.memory && repeat <= config.memoryRepeats)
        result.memory = await withUclientRetries(`${name} memory`, () => memory(server, peer.port));
    } catch (error) {
      result.memoryError = error.message;
    } finally {
      const ended = await server.stop();
      await peer.stop();
      result.stoppedBy = ended.signal ?? `exit ${ended.code}`;
    }
    result.attempt = attempt;
    const noisy = result.cpu.otherPct + result.cpu.reapedChildrenPct > config.quietThreshold;
    result.noisy = noisy;
    if (!noisy || attempt >= config.retries) return result;
    console.log(
      `    (other processes took ${fmt(result.cpu.otherPct + result.cpu.reapedChildrenPct, 0)}% of a core during the window: again)`,
    );
    attempt++;
  }
}

function describe(r) {
  const c = r.cpu;
  const mem = r.memory
    ? `, RSS/alloc ${fmt(r.memory.perAllocationBytes / 1024, 1)} KB (marginal ${fmt(r.memory.marginalPerAllocationBytes / 1024, 1)})`
    : r.memoryError
      ? `, memory: ${r.memoryError.split('\n')[0]}`
      : '';
  return (
    `  ${r.server.padEnd(8)} relayed ${int(r.relayedPerS).padStart(7)}/s (offered ${int(2 * r.offeredPerS)}/s) ` +
    `= ${int(r.relayedPerCpuSecond)} per CPU-s, loss ${fmt(r.lossPct, 3)}% (${r.lost}/${r.sent}), ` +
    `CPU server ${fmt(c.serverPct, 0)}% (usr ${fmt(c.serverUserPct, 0)} sys ${fmt(c.serverSysPct, 0)}) ` +
    `uclient ${fmt(c.uclientPct, 0)}% peer ${fmt(c.peerPct, 0)}% kthreads ${fmt(c.kernelThreadsPct, 0)}% unaccounted ${fmt(c.unaccountedPct, 0)}% other procs ${fmt(c.otherPct, 0)}% (+reaped ${fmt(c.reapedChildrenPct, 0)}) ` +
    `busy ${c.perCpuBusyPct.map((v) => `${fmt(v, 0)}%`).join('/')}, ` +
    `RSS ${fmt(r.loaded.rss / 2 ** 20, 1)} MB, threads ${r.loaded.threads}, rcvbuf drops ${r.udpRcvbufErrors} (at the server ${r.serverUdpDrops})${mem}`
  );
}

function summarize(results) {
  const names = config.servers;
  const lines = [];
  const summary = {};
  for (const name of names) {
    const runs = results.filter((r) => r.server === name);
    if (!runs.length) continue;
    const pick = (f) => median(runs.map(f));
    summary[name] = {
      runs: runs.length,
      relayedPerS: pick((r) => r.relayedPerS),
      relayedPerCpuSecond: pick((r) => r.relayedPerCpuSecond),
      relayedPerCpuSecondRuns: runs.map((r) => Math.round(r.relayedPerCpuSecond)),
      serverCpuPct: pick((r) => r.cpu.serverPct),
      lossPct: pick((r) => r.lossPct),
      lossPctMax: Math.max(...runs.map((r) => r.lossPct)),
      rssLoadedMB: pick((r) => r.loaded.rss / 2 ** 20),
      rssIdleMB: pick((r) => r.idle.rss / 2 ** 20),
      otherCpuPctMax: Math.max(...runs.map((r) => r.cpu.otherPct + r.cpu.reapedChildrenPct)),
      kernelThreadsPct: pick((r) => r.cpu.kernelThreadsPct),
      uclientCpuPct: pick((r) => r.cpu.uclientPct),
      peerCpuPct: pick((r) => r.cpu.peerPct),
      unaccountedPct: pick((r) => r.cpu.unaccountedPct),
      rssPerAllocationKB: pick((r) => (r.memory ? r.memory.perAllocationBytes / 1024 : Number.NaN)),
      rssMarginalPerAllocationKB: pick((r) => (r.memory ? r.memory.marginalPerAllocationBytes / 1024 : Number.NaN)),
    };
  }
  lines.push(
    `\nMedians over repeats (load: ${config.uclients}×${config.effectiveSessions} sessions, ${config.length} B every ${config.intervalMs} ms ` +
      `over ${config.transport.toUpperCase()} = ${int(config.offeredPerS)} msg/s offered, ${int(2 * config.offeredPerS)} relayed/s if nothing is lost):`,
  );
  lines.push(
    table(
      [
        'server',
        'relayed/s',
        'per CPU-second',
        'runs (per CPU-s)',
        'server CPU %',
        'loss % (max)',
        'RSS loaded MB',
        'RSS/alloc KB',
        'uclient/peer/kthreads %',
        'other CPU % (max)',
      ],
      Object.entries(summary).map(([name, s]) => [
        name,
        int(s.relayedPerS),
        int(s.relayedPerCpuSecond),
        s.relayedPerCpuSecondRuns.map(int).join(', '),
        fmt(s.serverCpuPct, 0),
        `${fmt(s.lossPct, 3)} (${fmt(s.lossPctMax, 3)})`,
        fmt(s.rssLoadedMB, 1),
        `${fmt(s.rssPerAllocationKB, 1)} (marg. ${fmt(s.rssMarginalPerAllocationKB, 1)})`,
        `${fmt(s.uclientCpuPct, 0)}/${fmt(s.peerCpuPct, 0)}/${fmt(s.kernelThreadsPct, 0)}`,
        fmt(s.otherCpuPctMax, 0),
      ]),
    ),
  );
  if (summary.convene && summary.coturn) {
    const repeats = [...new Set(results.map((r) => r.repeat))];
    summary.pairedRatios = repeats
      .map((repeat) => {
        const c = results.find((r) => r.server === 'convene' && r.repeat === repeat);
        const t = results.find((r) => r.server === 'coturn' && r.repeat === repeat);
        return c && t ? c.relayedPerCpuSecond / t.relayedPerCpuSecond : Number.NaN;
      })
      .filter(Number.isFinite);
    summary.ratio = summary.convene.relayedPerCpuSecond / summary.coturn.relayedPerCpuSecond;
    lines.push(
      `\nRelayed packets per CPU-second, convene/coturn: ${fmt(summary.ratio, 2)}× of the medians; per repeat ` +
        `${summary.pairedRatios.map((x) => `${fmt(x, 2)}×`).join(', ')} (median ${fmt(median(summary.pairedRatios), 2)}×)`,
    );
  }
  return { text: lines.join('\n'), summary };
}

async function main() {
  const ifaces = networkInterfaces();
  const machine = machineInfo();
  const missing = ['turnserver', 'turnutils_uclient', 'turnutils_peer'].filter((name) => !which(name));
  if (missing.length) {
    console.error(`✖ ${missing.join(', ')} not found: apt-get install coturn`);
    process.exit(2);
  }
  if (config.servers.includes('convene') && !conveneTurnAvailable(config.conveneScript)) {
    console.error(
      `✖ ${config.conveneScript} does not exist yet: run with --servers coturn, or write it (see bench/README.md)`,
    );
    process.exit(2);
  }
  console.log(
    `turn-relay: ${config.servers.join(' vs ')}, ${config.repeats} repeats, ${config.uclients} uclient × ${config.effectiveSessions} sessions, ` +
      `${config.length} B every ${config.intervalMs} ms over ${config.transport.toUpperCase()}${config.rtcp ? ' (with RTCP sessions)' : ' (-c)'}, ` +
      `-n ${config.messages}, ${config.measureS} s measured window`,
  );
  console.log(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.ramGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, load ${machine.loadavg}`,
  );
  console.log(
    `network interfaces: ${ifaces.join(', ')}${ifaces.length === 1 && ifaces[0] === 'lo' ? ' (loopback-only namespace)' : ' — NOT a loopback-only namespace: run under `unshare -n`'}`,
  );
  const coturn = coturnVersion();
  console.log(
    `coturn: ${coturn}, relay threads: ${config.coturnRelayThreads ?? `default (one per CPU = ${machine.cores})`}`,
  );

  const started = Date.now();
  const results = [];
  for (let repeat = 1; repeat <= config.repeats; repeat++) {
    const order = repeat % 2 ? config.servers : [...config.servers].reverse();
    console.log(`\n── repeat ${repeat}/${config.repeats}: ${order.join(', ')}`);
    for (const name of order) {
      try {
        const result = await measure(name, repeat);
        result.repeat = repeat;
        results.push(result);
        console.log(describe(result));
      } catch (error) {
        harnessFailures.push(`repeat ${repeat} ${name}: ${error.message}`);
        console.error(`✖ repeat ${repeat} ${name}: ${error.stack}`);
      }
    }
  }
  const { text, summary } = summarize(results);
  console.log(text);
  console.log(`\ntotal time ${fmt((Date.now() - started) / 1000, 0)} s`);
  const out =
    opts.out ?? join(ROOT, 'bench', '.runs', `turn-relay-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  saveResults(
    out,
    { machine, interfaces: ifaces, coturn, config, summary, results, uclientSetupFailures, harnessFailures },
    { failures: harnessFailures },
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
