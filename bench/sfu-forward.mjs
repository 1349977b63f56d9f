#!/usr/bin/env node
// SFU forwarding benchmark: one publisher (synthetic VP8 + Opus), N subscribers, side by side for
// several SFUs (adapters in lib/sfu-targets.mjs). Per session (target × N, fresh SFU process):
// connection setup CPU and memory per subscriber; then per rate: CPU per forwarded packet,
// forwarded packets/s, loss, kernel UDP drops. Runs in a loopback-only network namespace of its own
// (it re-executes itself under `unshare -n` when started outside one). See bench/README.md.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { removeVeth } from './lib/janus.mjs';
import { cpuTimes, machineInfo, networkInterfaces, rssBytes } from './lib/proc.mjs';
import { saveResults } from './lib/results.mjs';
import { ROOT } from './lib/servers.mjs';
import { startBotHost } from './lib/sfu-bot-host.mjs';
import { createTarget, targetAvailable } from './lib/sfu-targets.mjs';
import { fmt, int, median, percentile, sleep, table } from './lib/stats.mjs';
import { socketCounts, startPreciseCpuSample, threadCount, udpCounters } from './lib/turn-servers.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const NETNS_ENV = 'SFU_FORWARD_NETNS';

const { values: opts } = parseArgs({
  options: {
    targets: { type: 'string', default: 'janus,janus-el2' },
    subs: { type: 'string', default: '10' },
    rates: { type: 'string', default: '500' },
    'video-kbps': { type: 'string' },
    'audio-pps': { type: 'string', default: '50' },
    'video-payload': { type: 'string', default: '1200' },
    'audio-payload': { type: 'string', default: '80' },
    fps: { type: 'string', default: '30' },
    'keyframe-interval': { type: 'string', default: '10' },
    tick: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    measure: { type: 'string', default: '10' },
    drain: { type: 'string', default: '1' },
    repeats: { type: 'string', default: '1' },
    conc: { type: 'string', default: '10' },
    'sub-procs': { type: 'string', default: 'auto' },
    'sub-rtcp': { type: 'string', default: 'on' },
    'dtls-passive': { type: 'string', default: 'auto' },
    'pin-sfu': { type: 'string' },
    'pin-bots': { type: 'string' },
    'quiet-threshold': { type: 'string', default: '25' },
    'janus-debug-level': { type: 'string', default: '3' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (opts.help) {
  console.log(`usage: node bench/sfu-forward.mjs [options]
  (re-executes itself under \`unshare -n\` unless already in a loopback-only network namespace)
  --targets LIST         SFUs, side by side (default janus,janus-el2). janus = Janus VideoRoom with its
                         default threading (a loop per handle), janus-el<n> = event_loops = n,
                         convene = the adapter in bench/lib/convene-sfu.mjs
  --subs LIST            subscriber counts N, one fresh SFU session each (default 10)
  --rates LIST           publisher video packets/s, stepped within a session (default 500)
  --video-kbps K         instead of --rates: video payload bit rate → pps = K×1000/8/--video-payload
  --audio-pps P          Opus packets/s (default 50)           --audio-payload B   (default 80)
  --video-payload B      VP8 payload bytes per packet, descriptor included (default 1200)
  --fps F                video frames/s: packets per frame = rate/F (default 30)
  --keyframe-interval S  periodic keyframe every S s, 0 = only on PLI/FIR (default 10)
  --tick MS              publisher send timer: packets go out in bursts every MS (default 10)
  --warmup S             media flowing before the window (default 3)
  --measure S            measured window (default 10)            --drain S   after each step (default 1)
  --repeats R            sessions per target and N; targets alternate who goes first (default 1)
  --conc C               subscribers negotiating at once during setup (default 10)
  --sub-procs K|auto     bot host processes for the subscribers (default auto: ceil(N/50), max 2);
                         the publisher always has one of its own
  --sub-rtcp on|off      subscribers send receiver reports (RtcpReceivingSession) (default on)
  --dtls-passive on|off|auto  bots answering an offer are the DTLS server (on) or client (off);
                         default auto: as the target asks (Janus: server, Convene: client)
  --pin-sfu CPUS         taskset the SFU (all threads), e.g. 0; --pin-bots CPUS likewise the bots
  --quiet-threshold P    before each session, wait (≤ 15 s) until other processes use < P% of a core (25)
  --janus-debug-level L  Janus debug_level (default 3 = warnings)
  --out FILE             JSON results (default bench/.runs/sfu-forward-<time>.json)`);
  process.exit(0);
}

// ------------------------------------------------------------------ namespace

/** Loopback-only, or loopback + the veth Janus needs (made by lib/janus.mjs in this namespace). */
function isOwnNamespace(ifaces) {
  return ifaces.includes('lo') && ifaces.every((name) => ['lo', 'jb0', 'jb0p'].includes(name));
}

function ensureNamespace() {
  const ifaces = networkInterfaces();
  if (isOwnNamespace(ifaces)) {
    spawnSync('ip', ['link', 'set', 'lo', 'up']);
    return;
  }
  if (process.env[NETNS_ENV] === '1') {
    console.error(`✖ not a loopback-only network namespace even after unshare -n: ${ifaces.join(', ')}`);
    process.exit(2);
  }
  const r = spawnSync(
    'unshare',
    [
      '-n',
      'sh',
      '-c',
      'ip link set lo up && exec "$@"',
      'sh',
      process.execPath,
      ...process.execArgv,
      SCRIPT,
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit', env: { ...process.env, [NETNS_ENV]: '1' } },
  );
  if (r.error) {
    console.error(`✖ unshare -n: ${r.error.message} (needs root or CAP_SYS_ADMIN)`);
    process.exit(2);
  }
  process.exit(r.status ?? 1);
}

// ------------------------------------------------------------------ config

const list = (s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const config = {
  targets: list(opts.targets),
  subs: list(opts.subs).map(Number),
  audioPps: Number(opts['audio-pps']),
  videoPayload: Number(opts['video-payload']),
  audioPayload: Number(opts['audio-payload']),
  fps: Number(opts.fps),
  keyframeIntervalS: Number(opts['keyframe-interval']),
  tickMs: Number(opts.tick),
  warmupS: Number(opts.warmup),
  measureS: Number(opts.measure),
  drainS: Number(opts.drain),
  repeats: Number(opts.repeats),
  conc: Number(opts.conc),
  subProcs: opts['sub-procs'],
  subRtcp: opts['sub-rtcp'] !== 'off',
  dtlsPassive: opts['dtls-passive'] === 'auto' ? undefined : opts['dtls-passive'] !== 'off',
  pinSfu: opts['pin-sfu'],
  pinBots: opts['pin-bots'],
  quietThreshold: Number(opts['quiet-threshold']),
  janusDebugLevel: Number(opts['janus-debug-level']),
};
config.rates = opts['video-kbps']
  ? list(opts['video-kbps']).map((k) => Math.round((Number(k) * 1000) / 8 / config.videoPayload))
  : list(opts.rates).map(Number);
if (opts['video-kbps']) config.videoKbps = list(opts['video-kbps']).map(Number);

const harnessFailures = [];
const TICK_US = 10_000; // one clock tick (USER_HZ 100) in µs

// ------------------------------------------------------------------ helpers

async function othersCpu(ours) {
  const stop = startPreciseCpuSample(ours.map((pid) => ['ours', pid]));
  await sleep(1000);
  return stop().otherProcsPct;
}

async function waitQuiet(ours = []) {
  const deadline = Date.now() + 15_000;
  let other = await othersCpu(ours);
  while (other >= config.quietThreshold && Date.now() < deadline) other = await othersCpu(ours);
  return other;
}

const cpuTicksOf = (pid) => {
  const t = cpuTimes(pid);
  return t ? t.user + t.sys : Number.NaN;
};

/** CPUs every thread of a process may run on (Cpus_allowed_list of each task, distinct values). */
function cpusAllowed(pid) {
  const lists = new Set();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        lists.add(/^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1]);
      } catch {}
    }
  } catch {}
  return [...lists].join(' ');
}

/** On-CPU time of each live thread of a process, ns (/proc/<pid>/task/<tid>/schedstat). */
function threadRuntimes(pid) {
  const out = new Map();
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      out.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {}
  }
  return out;
}

/**
 * CPU of a process (all threads) over an interval, in µs. /proc/<pid>/stat counts in 10 ms ticks,
 * too coarse for a setup phase of a few subscribers; the per-thread schedstat sum is exact but
 * misses threads that ended in the interval. So: the schedstat sum, unless a thread ended or the
 * two disagree by more than 30 ms + 5% — then the tick count (`precise: false`).
 */
function startSfuCpu(pid) {
  const ticks0 = cpuTicksOf(pid);
  const threads0 = threadRuntimes(pid);
  return () => {
    const ticks1 = cpuTicksOf(pid);
    const threads1 = threadRuntimes(pid);
    const tickUs = (ticks1 - ticks0) * TICK_US;
    const ended = [...threads0.keys()].filter((tid) => !threads1.has(tid)).length;
    let ns = 0;
    for (const [tid, runtime] of threads1) ns += runtime - (threads0.get(tid) ?? 0);
    const preciseUs = ns / 1000;
    const agree = Math.abs(preciseUs - tickUs) <= 30_000 + 0.05 * tickUs;
    const precise = ended === 0 && agree;
    return { us: precise ? preciseUs : tickUs, precise, tickUs, preciseUs, threadsEnded: ended };
  };
}

function subProcsFor(n) {
  if (config.subProcs !== 'auto') return Math.max(1, Number(config.subProcs));
  return Math.min(2, Math.max(1, Math.ceil(n / 50)));
}

const PREROLL_S = 2;

function mediaOpts(videoPps) {
  return {
    videoPps,
    audioPps: config.audioPps,
    videoPayload: config.videoPayload,
    audioPayload: config.audioPayload,
    fps: config.fps,
    keyframeIntervalS: config.keyframeIntervalS,
    tickMs: config.tickMs,
  };
}

/** UDP receive-buffer drops at the sockets of each process (/proc/<pid>/net/udp "drops"), by owner. */
function dropsByOwner(pid, pubHost, subHosts) {
  const of = (p) => socketCounts(p).udpDrops;
  return {
    sfu: of(pid),
    publisher: of(pubHost.pid),
    subscribers: subHosts.reduce((sum, h) => sum + of(h.pid), 0),
  };
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function pool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Subscriber totals (video + audio) of all hosts, with per-bot received counts. */
async function snapshotAll(pubHost, subHosts) {
  const [pubSnap, ...subSnaps] = await Promise.all([
    pubHost.snapshot(),
    ...subHosts.map((h) => h.snapshot({ detail: true })),
  ]);
  const pub = pubSnap.publishers[0];
  const total = { received: 0, expected: 0, lost: 0, bytes: 0, gaps: 0, late: 0, videoReceived: 0, audioReceived: 0 };
  const perBot = new Map();
  for (const s of subSnaps) {
    for (const kind of ['video', 'audio']) {
      const c = s.subscribers[kind];
      total.received += c.received;
      total.expected += c.expected;
      total.lost += c.lost;
      total.bytes += c.bytes;
      total.gaps += c.gaps;
      total.late += c.late;
      total[`${kind}Received`] += c.received;
    }
    for (const b of s.perBot)
      perBot.set(b.id, {
        received: b.video.received + b.audio.received,
        lost: b.video.lost + b.audio.lost,
        state: b.state,
        videoKeyframes: b.video.keyframes,
      });
  }
  return { at: process.hrtime.bigint(), pub, total, perBot };
}

// ------------------------------------------------------------------ one session: target × N

async function session(targetName, n, repeat) {
  const result = { target: targetName, n, repeat, steps: [] };
  result.quietBeforePct = await waitQuiet();
  const target = await createTarget(targetName, { janusDebugLevel: config.janusDebugLevel });
  const hosts = [];
  try {
    await target.start({ cpus: config.pinSfu });
    const pid = target.pid();
    const pubHost = await startBotHost({ name: 'pub', cpus: config.pinBots });
    hosts.push(pubHost);
    const subHosts = [];
    for (let i = 0; i < subProcsFor(n); i++) {
      const h = await startBotHost({ name: `subs-${i + 1}`, cpus: config.pinBots });
      hosts.push(h);
      subHosts.push(h);
    }
    await sleep(500);
    result.idle = { rss: rssBytes(pid), threads: threadCount(pid) };

    // Publisher.
    const botOpts = {
      bindAddress: target.botAddress,
      dtlsPassive: config.dtlsPassive ?? target.botsAnswerAsDtlsServer ?? true,
    };
    const pub = await pubHost.createPublisher({ id: 'pub', ...botOpts });
    const pubT0 = performance.now();
    const pubCpu = startSfuCpu(pid);
    const feed = await target.publish(pub);
    await pub.connected(20_000);
    result.publisher = { setupMs: performance.now() - pubT0, sfuCpuMs: pubCpu().us / 1000 };
    // Pre-roll: the publisher alone sends for PREROLL_S, so the baseline for memory per subscriber
    // includes the SFU's per-publisher media state (receive buffers, NACK history).
    await pub.startMedia(mediaOpts(config.rates[0]));
    await sleep(PREROLL_S * 1000);
    await pub.stopMedia();
    await sleep(1000);
    result.afterPublisher = { rss: rssBytes(pid), threads: threadCount(pid) };

    // Subscribers, --conc at a time, no media flowing: the SFU's CPU in this phase is setup cost.
    const subs = [];
    for (let i = 0; i < n; i++)
      subs.push(
        await subHosts[i % subHosts.length].createSubscriber({
          id: `sub-${i}`,
          ...botOpts,
          rtcpReports: config.subRtcp,
        }),
      );
    const setupMs = [];
    const sfuCpu = startSfuCpu(pid);
    const stopSetupCpu = startPreciseCpuSample([['sfu', pid], ...hosts.map((h) => ['bots', h.pid])]);
    const t0 = performance.now();
    await pool(subs, config.conc, async (bot) => {
      const start = performance.now();
      await target.subscribe(bot, feed);
      await bot.connected(30_000);
      setupMs.push(performance.now() - start);
    });
    const setupWallMs = performance.now() - t0;
    const setupSfuCpu = sfuCpu();
    const setupCpu = stopSetupCpu();
    setupMs.sort((a, b) => a - b);
    await sleep(1500);
    const afterSubs = {
      rss: rssBytes(pid),
      threads: threadCount(pid),
      cpusAllowed: { sfu: cpusAllowed(pid), bots: hosts.map((h) => cpusAllowed(h.pid)).join(' / ') },
    };
    result.setup = {
      wallMs: setupWallMs,
      perSubMs: { p50: percentile(setupMs, 0.5), p90: percentile(setupMs, 0.9), max: setupMs.at(-1) },
      sfuCpuMs: setupSfuCpu.us / 1000,
      sfuCpuMsPerSub: setupSfuCpu.us / 1000 / n,
      sfuCpuPrecise: setupSfuCpu,
      botsCpuPct: setupCpu.processes.bots,
      otherCpuPct: setupCpu.otherProcsPct,
      afterSubs,
      rssPerSubKB: (afterSubs.rss - result.afterPublisher.rss) / n / 1024,
    };

    // Rates.
    for (const rate of config.rates) {
      const step = await measureStep({ pid, pub, pubHost, subHosts, n, rate });
      step.rssPerSubLoadedKB = (step.rssEnd - result.afterPublisher.rss) / n / 1024;
      result.steps.push(step);
      console.log(describeStep(targetName, n, step));
      await sleep(1000);
    }
    result.target_ = target.describe?.();
  } catch (error) {
    result.error = error.stack ?? String(error);
    result.target_ = target.describe?.();
    result.logTail = target.log?.().slice(-4000);
    throw Object.assign(error, { result });
  } finally {
    await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
    const ended = await target.stop().catch((e) => ({ error: String(e) }));
    result.stoppedBy = ended?.signal ?? (ended?.code !== undefined ? `exit ${ended.code}` : ended?.error);
  }
  return result;
}

async function measureStep({ pid, pub, pubHost, subHosts, n, rate }) {
  const step = { videoPps: rate, audioPps: config.audioPps };
  const udp0 = udpCounters();
  const s0 = await snapshotAll(pubHost, subHosts);
  await pub.startMedia(mediaOpts(rate));
  await sleep(config.warmupS * 1000);

  const udpA = udpCounters();
  const dropsA = dropsByOwner(pid, pubHost, subHosts);
  const a = await snapshotAll(pubHost, subHosts);
  const stopCpu = startPreciseCpuSample([['sfu', pid], ['pub', pubHost.pid], ...subHosts.map((h) => ['subs', h.pid])]);
  const sfuCpu = startSfuCpu(pid);
  await sleep(config.measureS * 1000);
  const sfuWindowCpu = sfuCpu();
  const cpu = stopCpu();
  const b = await snapshotAll(pubHost, subHosts);
  const udpB = udpCounters();
  const dropsB = dropsByOwner(pid, pubHost, subHosts);
  step.rssEnd = rssBytes(pid);
  step.threads = threadCount(pid);

  await pub.stopMedia();
  await sleep(config.drainS * 1000);
  const c = await snapshotAll(pubHost, subHosts);
  const udpC = udpCounters();

  const windowS = Number(b.at - a.at) / 1e9;
  const sent = (x) => x.pub.sent.video + x.pub.sent.audio;
  const received = b.total.received - a.total.received;
  const sfuCpuUs = sfuWindowCpu.us;
  step.sfuCpuPrecise = sfuWindowCpu;
  // Loss in the window from sequence gaps (expected − received per SSRC), and over the whole step
  // (start of sending → end of drain) as delivered / (sent × N), which also counts silent subscribers.
  const expectedW = b.total.expected - a.total.expected;
  const lostW = b.total.lost - a.total.lost;
  const stepSent = sent(c) - sent(s0);
  const stepReceived = c.total.received - s0.total.received;
  const perSubWindow = [...b.perBot.entries()].map(([id, v]) => v.received - (a.perBot.get(id)?.received ?? 0));
  perSubWindow.sort((x, y) => x - y);
  const pubRtcp = (k) => b.pub.rtcp[k] - a.pub.rtcp[k];
  Object.assign(step, {
    windowS,
    pubSentPps: (sent(b) - sent(a)) / windowS,
    offeredFwdPps: ((sent(b) - sent(a)) * n) / windowS,
    fwdPps: received / windowS,
    fwdVideoPps: (b.total.videoReceived - a.total.videoReceived) / windowS,
    fwdMbitPerS: ((b.total.bytes - a.total.bytes) * 8) / windowS / 1e6,
    sfuCpuPct: (100 * sfuCpuUs) / (windowS * 1e6),
    sfuCpuUsPerFwdPkt: received > 0 ? sfuCpuUs / received : Number.NaN,
    fwdPktPerCpuS: sfuCpuUs > 0 ? received / (sfuCpuUs / 1e6) : Number.NaN,
    lossWindowPct: expectedW > 0 ? (100 * lostW) / expectedW : Number.NaN,
    lostWindow: lostW,
    gapsWindow: b.total.gaps - a.total.gaps,
    lateWindow: b.total.late - a.total.late,
    lossStepPct: stepSent > 0 ? (100 * (stepSent * n - stepReceived)) / (stepSent * n) : Number.NaN,
    stepSent,
    stepReceived,
    subsSilentInWindow: perSubWindow.filter((x) => x === 0).length,
    perSubWindowReceived: { min: perSubWindow[0], median: median(perSubWindow), max: perSubWindow.at(-1) },
    udpRcvbufErrorsWindow: udpB.RcvbufErrors - udpA.RcvbufErrors,
    // Where: the SFU's sockets (it did not read fast enough) or the bots' (the load generator did not).
    udpDropsWindowAt: {
      sfu: dropsB.sfu - dropsA.sfu,
      publisher: dropsB.publisher - dropsA.publisher,
      subscribers: dropsB.subscribers - dropsA.subscribers,
    },
    udpRcvbufErrorsStep: udpC.RcvbufErrors - udp0.RcvbufErrors,
    udpSndbufErrorsStep: udpC.SndbufErrors - udp0.SndbufErrors,
    publisherWindow: {
      sendFailures: b.pub.sent.failed - a.pub.sent.failed,
      lastFailure: b.pub.sent.lastFailure,
      pli: pubRtcp('pli'),
      fir: pubRtcp('fir'),
      nack: pubRtcp('nack'),
      nackedPackets: pubRtcp('nackedPackets'),
      remb: pubRtcp('remb'),
      rr: pubRtcp('rr'),
      keyframes: b.pub.sent.keyframes - a.pub.sent.keyframes,
    },
    cpu: {
      sfuPct: cpu.processes.sfu,
      sfuUserPct: cpu.user.sfu,
      sfuSysPct: cpu.sys.sfu,
      pubPct: cpu.processes.pub,
      subsPct: cpu.processes.subs,
      orchestratorPct: cpu.orchestratorPct,
      otherPct: cpu.otherProcsPct,
      // Whole lives of other processes' children that ended in the window: an upper bound, can be huge.
      reapedChildrenPct: cpu.reapedChildrenPct,
      kernelThreadsPct: cpu.kernelThreadsPct,
      unaccountedPct: cpu.unaccountedPct,
      perCpuBusyPct: cpu.perCpuBusyPct,
    },
  });
  return step;
}

function describeStep(name, n, s) {
  return (
    `  ${name.padEnd(10)} N=${String(n).padStart(3)} ${s.videoPps}+${s.audioPps} pps: fwd ${int(s.fwdPps)} pps ` +
    `(offered ${int(s.offeredFwdPps)}), SFU ${fmt(s.sfuCpuPct, 1)}% = ${fmt(s.sfuCpuUsPerFwdPkt, 2)} µs/pkt, ` +
    `loss ${fmt(s.lossWindowPct, 3)}% window / ${fmt(s.lossStepPct, 3)}% step, rcvbuf drops ${s.udpRcvbufErrorsWindow}` +
    `${s.udpRcvbufErrorsWindow ? ` (at SFU ${s.udpDropsWindowAt.sfu}, subscriber bots ${s.udpDropsWindowAt.subscribers}, publisher ${s.udpDropsWindowAt.publisher})` : ''}` +
    `${s.subsSilentInWindow ? `, ${s.subsSilentInWindow} SILENT subscribers` : ''}` +
    `${s.publisherWindow.sendFailures ? `, ${s.publisherWindow.sendFailures} PUBLISHER SEND FAILURES (${s.publisherWindow.lastFailure})` : ''}, ` +
    `PLI ${s.publisherWindow.pli} NACK ${s.publisherWindow.nack}, ` +
    `bots pub ${fmt(s.cpu.pubPct, 0)}% subs ${fmt(s.cpu.subsPct, 0)}%, other ${fmt(s.cpu.otherPct, 0)}%, ` +
    `busy ${s.cpu.perCpuBusyPct.map((v) => `${fmt(v, 0)}%`).join('/')}, RSS/sub loaded ${fmt(s.rssPerSubLoadedKB, 0)} KB`
  );
}

function describeSession(r) {
  const s = r.setup;
  return (
    `  ${r.target.padEnd(10)} N=${String(r.n).padStart(3)} setup: ${fmt(s.wallMs / 1000, 2)} s ` +
    `(per subscriber p50 ${fmt(s.perSubMs.p50, 0)} / p90 ${fmt(s.perSubMs.p90, 0)} / max ${fmt(s.perSubMs.max, 0)} ms), ` +
    `SFU CPU ${fmt(s.sfuCpuMsPerSub, 2)} ms/sub (${fmt(s.sfuCpuMs, 0)} ms), RSS +${fmt(s.rssPerSubKB, 0)} KB/sub ` +
    `(idle ${fmt(r.idle.rss / 2 ** 20, 1)} MB, ${s.afterSubs.threads} threads), publisher ${fmt(r.publisher.setupMs, 0)} ms`
  );
}

// ------------------------------------------------------------------ summary

function summarize(results) {
  const lines = [];
  const cells = [];
  for (const name of config.targets)
    for (const n of config.subs)
      for (const rate of config.rates) {
        const steps = results
          .filter((r) => r.target === name && r.n === n)
          .flatMap((r) => r.steps.filter((s) => s.videoPps === rate));
        const sessions = results.filter((r) => r.target === name && r.n === n && r.setup);
        if (!steps.length) continue;
        const pick = (f) => median(steps.map(f));
        cells.push({
          target: name,
          n,
          rate,
          runs: steps.length,
          usPerPkt: pick((s) => s.sfuCpuUsPerFwdPkt),
          usPerPktRuns: steps.map((s) => s.sfuCpuUsPerFwdPkt),
          fwdPps: pick((s) => s.fwdPps),
          offeredFwdPps: pick((s) => s.offeredFwdPps),
          sfuCpuPct: pick((s) => s.sfuCpuPct),
          lossWindowPctMax: Math.max(...steps.map((s) => s.lossWindowPct)),
          lossStepPctMax: Math.max(...steps.map((s) => s.lossStepPct)),
          rcvbufMax: Math.max(...steps.map((s) => s.udpRcvbufErrorsWindow)),
          silentMax: Math.max(...steps.map((s) => s.subsSilentInWindow)),
          rssPerSubKB: median(sessions.map((r) => r.setup.rssPerSubKB)),
          rssPerSubLoadedKB: pick((s) => s.rssPerSubLoadedKB),
          setupCpuMsPerSub: median(sessions.map((r) => r.setup.sfuCpuMsPerSub)),
          otherCpuPctMax: Math.max(...steps.map((s) => s.cpu.otherPct)),
        });
      }
  const isJanus = (name) => name.startsWith('janus');
  for (const cell of cells) {
    if (isJanus(cell.target)) continue;
    const janus = cells.filter((c) => isJanus(c.target) && c.n === cell.n && c.rate === cell.rate);
    if (janus.length) cell.vsBestJanus = cell.usPerPkt / Math.min(...janus.map((c) => c.usPerPkt));
  }
  lines.push(
    `\nMedians over repeats (video ${config.videoPayload} B VP8 + ${config.audioPps} pps × ${config.audioPayload} B Opus; ` +
      `window ${config.measureS} s after ${config.warmupS} s warm-up; loss = max over repeats):`,
  );
  lines.push(
    table(
      [
        'target',
        'N',
        'video pps',
        'runs',
        'SFU µs/fwd pkt',
        'vs best Janus',
        'fwd pps',
        'SFU CPU %',
        'loss % window (step)',
        'rcvbuf drops',
        'RSS/sub KB setup (loaded)',
        'setup CPU ms/sub',
        'other CPU % max',
      ],
      cells.map((c) => [
        c.target,
        c.n,
        c.rate,
        c.runs,
        `${fmt(c.usPerPkt, 2)}${c.runs > 1 ? ` (${c.usPerPktRuns.map((x) => fmt(x, 1)).join(', ')})` : ''}`,
        c.vsBestJanus === undefined ? '' : `${fmt(c.vsBestJanus, 2)}×`,
        int(c.fwdPps),
        fmt(c.sfuCpuPct, 1),
        `${fmt(c.lossWindowPctMax, 3)} (${fmt(c.lossStepPctMax, 3)})${c.silentMax ? ` ${c.silentMax} silent` : ''}`,
        c.rcvbufMax,
        `${fmt(c.rssPerSubKB, 0)} (${fmt(c.rssPerSubLoadedKB, 0)})`,
        fmt(c.setupCpuMsPerSub, 2),
        fmt(c.otherCpuPctMax, 0),
      ]),
    ),
  );
  const best = {};
  for (const name of config.targets) {
    const clean = cells.filter((c) => c.target === name && c.lossWindowPctMax === 0 && c.silentMax === 0);
    const top = clean.sort((x, y) => y.fwdPps - x.fwdPps)[0];
    best[name] = top ? { fwdPps: top.fwdPps, n: top.n, rate: top.rate } : null;
  }
  lines.push(
    `\nHighest forwarded rate with 0 loss in every repeat's window: ${Object.entries(best)
      .map(([name, b]) => `${name} ${b ? `${int(b.fwdPps)} pps (N=${b.n}, ${b.rate} video pps)` : 'none'}`)
      .join('; ')}`,
  );
  return { text: lines.join('\n'), cells, highestCleanFwd: best };
}

// ------------------------------------------------------------------ main

async function main() {
  ensureNamespace();
  const ifaces = networkInterfaces();
  const machine = machineInfo();
  const missing = config.targets.filter((name) => !targetAvailable(name));
  if (missing.length) {
    console.error(
      `✖ unknown or unavailable target(s): ${missing.join(', ')} (janus, janus-el<n>, convene once bench/lib/convene-sfu.mjs exists)`,
    );
    process.exit(2);
  }
  console.log(
    `sfu-forward: ${config.targets.join(' vs ')}, N = ${config.subs.join(', ')}, video ${config.rates.join(', ')} pps × ${config.videoPayload} B ` +
      `+ audio ${config.audioPps} pps × ${config.audioPayload} B, ${config.repeats} repeat(s), warm-up ${config.warmupS} s, window ${config.measureS} s` +
      `${config.pinSfu !== undefined ? `, SFU pinned to CPU ${config.pinSfu}` : ''}${config.pinBots !== undefined ? `, bots on CPU ${config.pinBots}` : ''}`,
  );
  console.log(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.ramGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, load ${machine.loadavg}`,
  );
  console.log(`network interfaces: ${ifaces.join(', ')} (loopback-only namespace, pid ${process.pid})`);

  const started = Date.now();
  const results = [];
  for (let repeat = 1; repeat <= config.repeats; repeat++) {
    for (const n of config.subs) {
      const order = repeat % 2 ? config.targets : [...config.targets].reverse();
      console.log(`\n── repeat ${repeat}/${config.repeats}, N = ${n}: ${order.join(', ')}`);
      for (const name of order) {
        try {
          const r = await session(name, n, repeat);
          results.push(r);
          console.log(describeSession(r));
        } catch (error) {
          if (error.result) results.push(error.result);
          harnessFailures.push(`repeat ${repeat} N=${n} ${name}: ${error.message}`);
          console.error(`✖ repeat ${repeat} N=${n} ${name}: ${error.stack}`);
          if (error.result?.logTail) console.error(`  log tail:\n${error.result.logTail.slice(-1500)}`);
        }
      }
    }
  }
  removeVeth();
  const { text, cells, highestCleanFwd } = summarize(results.filter((r) => !r.error));
  console.log(text);
  console.log(`\ntotal time ${fmt((Date.now() - started) / 1000, 0)} s`);
  const out =
    opts.out ?? join(ROOT, 'bench', '.runs', `sfu-forward-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  saveResults(
    out,
    { machine, interfaces: ifaces, config, summary: { cells, highestCleanFwd }, results, harnessFailures },
    { failures: harnessFailures },
  );
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
