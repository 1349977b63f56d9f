#!/usr/bin/env node
// Signaling relay benchmark: Convene's server vs the PeerJS server, side by side in one run.
//
//   unshare -n sh -c 'ip link set lo up; node bench/signaling-relay.mjs'
//
// 1,000 WebSocket clients (500 pairs; each pair its own Convene room / two PeerJS ids) relay
// negotiation-shaped messages (offer 4–6 KB, answer 3–5 KB, 8 candidates each way ≈ 250 B) at
// stepped open-loop rates. Each server runs in its own child process, the load generator in
// separate worker processes. See bench/README.md for the method.
import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarizeHeapProfile, summarizeProfile, withCpuProfile, withHeapSampling } from './lib/cpuprofile.mjs';
import { foreignCpu, machineInfo, networkInterfaces, startCpuSample } from './lib/proc.mjs';
import { saveResults } from './lib/results.mjs';
import { conveneAvailable, ROOT, startConvene, startPeerJs } from './lib/servers.mjs';
import { fmt, int, median, percentile, sleep, table } from './lib/stats.mjs';
import { nowUs } from './lib/ws-client.mjs';

const { values: opts } = parseArgs({
  options: {
    repeats: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    pairs: { type: 'string', default: '500' },
    ladder: { type: 'string', default: '2000,5000,10000,20000,40000,80000,160000' },
    bisect: { type: 'string', default: '3' },
    'quiet-threshold': { type: 'string', default: '25' },
    retries: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    measure: { type: 'string', default: '5' },
    drain: { type: 'string', default: '10' },
    servers: { type: 'string', default: 'peerjs,convene' },
    stub: { type: 'boolean', default: false },
    'rate-limit': { type: 'string', default: '1000000' },
    pin: { type: 'string', default: 'off' },
    'server-node-args': { type: 'string', default: '' },
    'log-level': { type: 'string', default: 'warn' },
    profile: { type: 'string' },
    'heap-profile': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(`usage: node bench/signaling-relay.mjs [options]
  --repeats N         full runs per server (default 3; medians are quoted)
  --servers LIST      peerjs,convene (default both, stepped in turn: rate r on one, then on the other)
  --ladder RATES      offered msg/s steps (default 2000,5000,10000,20000,40000,80000,160000)
  --bisect N          extra steps between the last passing and first failing rate (default 3)
  --quiet-threshold P before a step, wait (≤ 15 s) until other processes use < P% of a core (default 25)
  --retries N         re-run a failing step (≤ N times, default 2) if other processes used > P% of a
                      core during it, or the server was not saturated (< 90% of a core)
  --warmup S --measure S --drain S   per step (default 1, 5, 10)
  --pairs N --workers N              500 pairs = 1,000 clients; generator worker processes (default 2)
  --rate-limit N      Convene --rate-limit and --rate-burst (default 1000000: never throttles)
  --pin on|off        on: pin the server (all threads) to CPU 0 and the generator + orchestrator to
                      the other CPU(s) with taskset (a one-core server; its GC threads then share
                      that core). Default off: the OS schedules everything on both cores
  --log-level L       Convene --log-level (default warn)
  --stub              use bench/lib/stub-server.mjs instead of Convene (harness development only)
  --server-node-args="ARGS"  extra node flags for the server processes, e.g. "--trace-gc" (their
                      output is saved to bench/.runs/<server>-<time>.log)
  --profile RATE      instead: CPU-profile Convene (or the one server named by --servers) at RATE
                      msg/s for --measure s and print where the time goes
  --heap-profile RATE instead: sample Convene's allocations at RATE msg/s and print who allocates
  --out FILE          JSON results (default bench/.runs/signaling-relay-<time>.json)`);
  process.exit(0);
}

const config = {
  repeats: Number(opts.repeats),
  workers: Number(opts.workers),
  pairs: Number(opts.pairs),
  ladder: opts.ladder.split(',').map(Number),
  bisect: Number(opts.bisect),
  quietThreshold: Number(opts['quiet-threshold']),
  retries: Number(opts.retries),
  warmupUs: Number(opts.warmup) * 1e6,
  measureUs: Number(opts.measure) * 1e6,
  drainUs: Number(opts.drain) * 1e6,
  servers: opts.servers.split(','),
  stub: opts.stub,
  rateLimit: Number(opts['rate-limit']),
  logLevel: opts['log-level'],
  pin: opts.pin === 'on' && cpus().length >= 2,
};
const SERVER_CPUS = '0';
const GENERATOR_CPUS = `1-${Math.max(1, cpus().length - 1)}`;

/** Pins every thread of `pid` to `cpuList` (taskset -a). */
function pin(pid, cpuList) {
  if (!config.pin) return;
  const result = spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`taskset failed for ${pid}: ${result.stderr || result.error}`);
}
const conveneArgs = [
  '--rate-limit',
  String(config.rateLimit),
  '--rate-burst',
  String(config.rateLimit),
  '--log-level',
  config.logLevel,
];
const CONVENE_LABEL = config.stub ? 'convene-STUB' : 'convene';
const harnessFailures = [];

// ------------------------------------------------------------------ workers

function startWorkers(count) {
  return Array.from({ length: count }, () => {
    const child = fork(join(ROOT, 'bench', 'lib', 'relay-worker.mjs'), [], { serialization: 'advanced' });
    const worker = { child, pid: child.pid, queue: [], waiters: [] };
    child.once('spawn', () => {
      // After Node's own threads exist (they start with the process), pin them all.
      setTimeout(() => pin(child.pid, GENERATOR_CPUS), 200);
    });
    child.on('message', (message) => {
      worker.queue.push(message);
      for (const waiter of worker.waiters.splice(0)) waiter();
    });
    child.on('exit', (code) => {
      worker.exited = code;
      for (const waiter of worker.waiters.splice(0)) waiter();
    });
    return worker;
  });
}

async function reply(worker, evt, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = worker.queue.findIndex((m) => m.evt === evt || m.evt === 'error');
    if (index >= 0) {
      const [message] = worker.queue.splice(index, 1);
      if (message.evt === 'error') throw new Error(`generator worker ${worker.pid}: ${message.message}`);
      return message;
    }
    if (worker.exited !== undefined) throw new Error(`generator worker ${worker.pid} exited (${worker.exited})`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`generator worker ${worker.pid}: no '${evt}' within ${timeoutMs} ms`);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, left);
      worker.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

async function stopWorkers(workers) {
  await Promise.all(
    workers.map(async (worker) => {
      if (worker.exited !== undefined) return;
      worker.child.send({ cmd: 'close' });
      await reply(worker, 'closed', 5000).catch(() => {});
      if (worker.exited === undefined) worker.child.kill('SIGKILL');
    }),
  );
}

// ------------------------------------------------------------------ one step

const SLICE_US = 500_000;

/** Median of pairwise slopes of [x, y] points (finite y only). */
function theilSen(points) {
  const finite = points.filter(([, y]) => Number.isFinite(y));
  const slopes = [];
  for (let i = 0; i < finite.length; i++) {
    for (let j = i + 1; j < finite.length; j++)
      slopes.push((finite[j][1] - finite[i][1]) / (finite[j][0] - finite[i][0]));
  }
  return median(slopes);
}

async function runStep(server, workers, rate, stepId) {
  const shares = workers.map((worker) => worker.pairCount / config.pairs);
  const startAt = nowUs() + 300_000;
  for (const [i, worker] of workers.entries()) {
    worker.child.send({
      cmd: 'step',
      stepId,
      rate: rate * shares[i],
      startAt,
      warmupUs: config.warmupUs,
      measureUs: config.measureUs,
      drainMaxUs: config.drainUs,
    });
  }
  // CPU over the measurement window only.
  while (nowUs() < startAt + config.warmupUs) await sleep(Math.max(1, (startAt + config.warmupUs - nowUs()) / 1000));
  const stopCpu = startCpuSample([
    ['server', server.pid],
    ...workers.map((worker) => ['generator', worker.pid]),
    ['orchestrator', process.pid],
  ]);
  await sleep(config.measureUs / 1000);
  const cpu = stopCpu();
  const results = await Promise.all(
    workers.map((worker) => reply(worker, 'step-done', config.drainUs / 1000 + 60_000)),
  );

  const measureS = config.measureUs / 1e6;
  const sum = (key) => results.reduce((total, r) => total + r[key], 0);
  // Samples cover the whole step by send time; percentiles use the measured window only, the
  // growth check uses every second from the step's start (the queue is empty then).
  const windowStart = startAt + config.warmupUs;
  const windowEnd = windowStart + config.measureUs;
  const slices = Math.ceil((config.warmupUs + config.measureUs) / SLICE_US);
  const perSlice = Array.from({ length: slices }, () => []);
  const inWindow = [];
  for (const r of results) {
    for (let i = 0; i < r.latencies.length; i++) {
      const at = r.sendTimes[i];
      const latency = r.latencies[i];
      perSlice[Math.min(slices - 1, Math.max(0, Math.floor((at - startAt) / SLICE_US)))].push(latency);
      if (at >= windowStart && at < windowEnd) inWindow.push(latency);
    }
  }
  const p99PerSliceMs = perSlice.map(
    (values) =>
      percentile(
        values.sort((a, b) => a - b),
        0.99,
      ) / 1000,
  );
  const latencies = Float64Array.from(inWindow).sort();
  const sent = sum('sent');
  const received = sum('received');
  const sentInWindow = sum('sentInWindow');
  const step = {
    rate,
    offered: rate,
    generated: sentInWindow / measureS,
    delivered: sum('receivedInWindow') / measureS,
    sent,
    received,
    lost: sent - received,
    p50Ms: percentile(latencies, 0.5) / 1000,
    p90Ms: percentile(latencies, 0.9) / 1000,
    p99Ms: percentile(latencies, 0.99) / 1000,
    maxMs: latencies.length ? latencies[latencies.length - 1] / 1000 : Number.NaN,
    samples: latencies.length,
    p99PerSliceMs,
    drainMs: Math.max(...results.map((r) => r.drainUs)) / 1000,
    generatorLateSends: sum('lateSends'),
    generatorMaxLagMs: Math.max(...results.map((r) => r.maxLagUs)) / 1000,
    generatorLoopDelayP99Ms: Math.max(...results.map((r) => r.loopDelayP99Ms)),
    generatorLoopDelayMaxMs: Math.max(...results.map((r) => r.loopDelayMaxMs)),
    cpu: {
      serverPct: cpu.processes.server,
      serverSysPct: cpu.sys.server,
      generatorPct: cpu.processes.generator,
      generatorSysPct: cpu.sys.generator,
      orchestratorPct: cpu.processes.orchestrator,
      otherPct: cpu.otherPctOfCore,
      softirqPct: cpu.softirqPctOfCore,
      stealPct: cpu.stealPctOfCore,
      machineBusyPct: cpu.machineBusyPct,
      serverCoreBusyPct: config.pin ? cpu.perCpuBusyPct[0] : Number.NaN,
      perCpuBusyPct: cpu.perCpuBusyPct,
    },
    health: results.map((r) => r.health).filter(Boolean),
  };
  // Keeps up: delivers ≥ 99% of the offered rate, loses nothing (≤ 0.1%), and its p99 does not grow
  // over the step: the trend of p99 per 500 ms slice, from the step's start (empty queue) to its
  // end, is under 10 ms per second (a robust Theil–Sen slope, so a lone hiccup does not count as
  // growth; a queue that builds up does). A median above 20 ms is a standing queue (unloaded, the
  // median is ≈ 0.2 ms here): not keeping up either.
  step.p99SlopeMsPerS = theilSen(p99PerSliceMs.map((value, i) => [(i * SLICE_US) / 1e6, value]));
  step.growing = step.p99SlopeMsPerS > 10;
  step.standingQueue = step.p50Ms > 20;
  step.generatorOk = step.generated >= 0.99 * rate;
  step.keepsUp =
    step.generatorOk &&
    step.delivered >= 0.99 * rate &&
    step.lost <= 0.001 * sent &&
    !step.growing &&
    !step.standingQueue &&
    step.samples > 0;
  step.verdict = step.keepsUp ? 'keeps up' : step.generatorOk ? 'falls behind' : 'GENERATOR-LIMITED';
  return step;
}

function describeStep(name, step) {
  const cpu = step.cpu;
  return (
    `  ${name.padEnd(12)} ${int(step.rate).padStart(7)}/s → delivered ${int(step.delivered).padStart(7)}/s ` +
    `p50 ${fmt(step.p50Ms, 2)} p99 ${fmt(step.p99Ms, 2)} max ${fmt(step.maxMs, 1)} ms, lost ${step.lost}, ` +
    `CPU server ${fmt(cpu.serverPct, 0)}% (sys ${fmt(cpu.serverSysPct, 0)}) gen ${fmt(cpu.generatorPct, 0)}% (sys ${fmt(cpu.generatorSysPct, 0)}) softirq ${fmt(cpu.softirqPct, 0)}% other ${fmt(cpu.otherPct, 0)}% ` +
    `loop delay gen p99 ${fmt(step.generatorLoopDelayP99Ms, 0)} max ${fmt(step.generatorLoopDelayMaxMs, 0)} ms, ` +
    `CPU busy ${step.cpu.perCpuBusyPct.map((v) => `${fmt(v, 0)}%`).join('/')} ` +
    `[${step.verdict}${step.growing ? ', p99 growing' : ''}${step.standingQueue ? ', standing queue' : ''}]` +
    (step.health.length ? ` health: ${JSON.stringify(step.health)}` : '')
  );
}

// ------------------------------------------------------------------ one server, one repeat

async function startServer(name, extraNodeArgs = []) {
  if (name === 'peerjs') return startPeerJs({ nodeArgs: extraNodeArgs });
  return startConvene({ args: conveneArgs, nodeArgs: extraNodeArgs, stub: config.stub });
}

/** A server with its 1,000 connected clients and their generator workers, ready for steps. */
async function openSession(name, nodeArgs = []) {
  const extraNodeArgs = opts['server-node-args'].split(' ').filter(Boolean);
  const server = await startServer(name, [...extraNodeArgs, ...nodeArgs]);
  pin(server.pid, SERVER_CPUS);
  const workers = startWorkers(config.workers);
  const session = {
    name,
    label: name === 'convene' ? CONVENE_LABEL : name,
    server,
    workers,
    steps: [],
    stepId: 0,
    /** Every process of ours (all sessions): what is not these is "other". */
    ourPids: [],
    close: async () => {
      await stopWorkers(workers);
      const ended = await server.stop();
      if (extraNodeArgs.length) {
        const log = join(ROOT, 'bench', '.runs', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
        writeFileSync(log, server.output());
        console.log(`  ${name} output: ${log}`);
      }
      if (ended.signal === 'SIGKILL') console.log(`  (${server.name} did not exit on SIGTERM within 5 s; killed)`);
    },
  };
  try {
    const runId = Date.now().toString(36);
    let pairStart = 0;
    for (const [i, worker] of workers.entries()) {
      worker.pairCount = Math.floor(config.pairs / workers.length) + (i < config.pairs % workers.length ? 1 : 0);
      worker.child.send({
        cmd: 'setup',
        server: name === 'peerjs' ? 'peerjs' : 'convene',
        wsUrl: server.wsUrl,
        pairStart,
        pairCount: worker.pairCount,
        concurrency: 25,
        runId,
      });
      pairStart += worker.pairCount;
    }
    const ready = await Promise.all(workers.map((worker) => reply(worker, 'ready', 120_000)));
    session.setup = {
      clients: ready.reduce((n, r) => n + r.clients, 0),
      connectMs: Math.max(...ready.map((r) => r.connectMs)),
      meanMessageBytes: Math.round(median(ready.map((r) => r.meanMessageBytes))),
    };
    session.ourPids = [server.pid, process.pid, ...workers.map((worker) => worker.pid)];
    console.log(
      `  ${session.label}: ${session.setup.clients} clients connected in ${int(session.setup.connectMs)} ms ` +
        `(mean message ${session.setup.meanMessageBytes} B)`,
    );
    return session;
  } catch (error) {
    await session.close();
    throw error;
  }
}

/**
 * One step on a session. The box is shared: first wait for other processes to calm down; re-run a
 * failing step if something else took CPU while it ran, or if the server's core was not even full
 * (then a hiccup failed it, not the server's capacity).
 */
async function runSessionStep(session, rate) {
  const waitForQuiet = async () => {
    const deadline = Date.now() + 15_000;
    let other = await foreignCpu(session.ourPids);
    while (other > config.quietThreshold && Date.now() < deadline) other = await foreignCpu(session.ourPids);
    return other;
  };
  const attempts = [];
  for (let attempt = 0; ; attempt++) {
    const otherBefore = await waitForQuiet();
    const step = await runStep(session.server, session.workers, rate, session.stepId++);
    step.otherBeforePct = otherBefore;
    step.attempt = attempt + 1;
    console.log(describeStep(session.label, step));
    attempts.push(step);
    if (!step.keepsUp && step.drainMs >= config.drainUs / 1000) await sleep(2000);
    const noisy = step.cpu.otherPct > config.quietThreshold;
    // Pinned: the server's core (its process plus the softirq work on it); else the process itself.
    const unsaturated = (config.pin ? step.cpu.serverCoreBusyPct : step.cpu.serverPct) < 90;
    if (step.keepsUp || !(noisy || unsaturated) || attempt >= config.retries) {
      step.earlierAttempts = attempts.slice(0, -1).map(({ rate: r, delivered, p50Ms, p99Ms, cpu, verdict }) => ({
        rate: r,
        delivered,
        p50Ms,
        p99Ms,
        cpu,
        verdict,
      }));
      session.steps.push(step);
      return step;
    }
    console.log(
      noisy
        ? `    (other processes used ${fmt(step.cpu.otherPct, 0)}% of a core during that step: re-running it)`
        : `    (the server was not saturated (< 90% of a core): re-running the step to confirm)`,
    );
  }
}

/**
 * One repeat: both servers up at once (each with its own clients and workers; the idle one costs
 * next to nothing), stepping through the same rates in turn — rate r on one, then r on the other
 * (who goes first alternates by repeat) — so slow drifts of the shared machine hit both alike.
 * Each ladder stops at its server's first failing step, then bisects between its last passing and
 * first failing rate. Finally Convene runs PeerJS's maximum of this repeat if it has not already.
 */
async function runRepeat(repeat) {
  const names = ['peerjs', 'convene'].filter((name) => config.servers.includes(name));
  const sessions = [];
  try {
    for (const name of names) sessions.push(await openSession(name));
    const all = sessions.flatMap((s) => s.ourPids);
    for (const session of sessions) {
      session.ourPids = [...new Set(all)];
      session.lastPass = null;
      session.firstFail = null;
    }
    const order = repeat % 2 === 1 ? sessions : [...sessions].reverse();
    const record = (session, rate, step) => {
      if (step.keepsUp) session.lastPass = Math.max(session.lastPass ?? 0, rate);
      // A failing step ends the ladder; bisection then looks between the last pass and it. If the
      // generator could not offer that rate, the mid-rates may still be measurable.
      else session.firstFail = Math.min(session.firstFail ?? Number.POSITIVE_INFINITY, rate);
    };
    for (const rate of config.ladder) {
      const active = order.filter((session) => session.firstFail === null);
      if (!active.length) break;
      for (const session of active) record(session, rate, await runSessionStep(session, rate));
    }
    for (let i = 0; i < config.bisect; i++) {
      for (const session of order) {
        if (session.firstFail === null || session.lastPass === null) continue;
        const mid = Math.round(Math.sqrt(session.lastPass * session.firstFail) / 500) * 500;
        if (mid <= session.lastPass || mid >= session.firstFail) continue;
        record(session, mid, await runSessionStep(session, mid));
      }
    }
    const peer = sessions.find((session) => session.name === 'peerjs');
    const convene = sessions.find((session) => session.name === 'convene');
    const peerMax = peer ? Math.max(0, ...peer.steps.filter((s) => s.keepsUp).map((s) => s.rate)) : 0;
    if (convene && peerMax > 0 && !convene.steps.some((s) => s.rate === peerMax)) {
      console.log(`  (${convene.label} at PeerJS's maximum of this repeat, ${int(peerMax)} msg/s:)`);
      await runSessionStep(convene, peerMax);
    }
    return sessions.map((session) => {
      const best = session.steps.filter((s) => s.keepsUp).sort((a, b) => b.rate - a.rate)[0] ?? null;
      const above = session.steps.filter((s) => !s.keepsUp && s.rate > (best?.rate ?? 0));
      return {
        server: session.name,
        repeat,
        setup: session.setup,
        steps: session.steps,
        maxKeepUpRate: best?.rate ?? 0,
        best,
        ceiling: above.some((s) => s.generatorOk)
          ? 'server fell behind'
          : above.length
            ? 'generator-limited (a lower bound)'
            : 'ladder top reached (a lower bound)',
      };
    });
  } finally {
    for (const session of sessions) await session.close();
  }
}

/** For profiling: one server under load, `fn(server, workers)` runs the steps. */
async function withLoad(name, fn, nodeArgs = []) {
  const session = await openSession(name, nodeArgs);
  try {
    session.ourPids = [...session.ourPids];
    return await fn(session.server, session.workers);
  } finally {
    await session.close();
  }
}

// ------------------------------------------------------------------ profile mode

async function profile(rate, kind) {
  // Convene, unless --servers names exactly one other server (e.g. PeerJS, for comparison).
  const name = config.servers.length === 1 ? config.servers[0] : 'convene';
  const label = name === 'convene' ? CONVENE_LABEL : name;
  const what = kind === 'cpu' ? 'CPU-profiling' : 'sampling allocations of';
  console.log(`${what} ${label} at ${int(rate)} msg/s for ${config.measureUs / 1e6} s`);
  const dir = join(ROOT, 'bench', '.runs');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `${name}-relay-${stamp}.${kind === 'cpu' ? 'cpuprofile' : 'heapprofile'}`);
  const sample = kind === 'cpu' ? withCpuProfile : withHeapSampling;
  await withLoad(
    name,
    async (server, workers) => {
      const step = await sample(server, file, () => runStep(server, workers, rate, 0));
      console.log(describeStep(label, step));
    },
    ['--inspect=127.0.0.1:0'],
  );
  console.log(`\nprofile: ${file} (open in Chrome DevTools, or speedscope)\n`);
  console.log(kind === 'cpu' ? summarizeProfile(file) : summarizeHeapProfile(file));
}

// ------------------------------------------------------------------ main

function summarize(runs) {
  const byServer = (name) => runs.filter((r) => r.server === name);
  const lines = [];
  const names = config.servers.filter((name) => byServer(name).length);
  const allRates = [...new Set(runs.flatMap((r) => r.steps.map((s) => s.rate)))].sort((a, b) => a - b);

  lines.push('\nPer step, medians over runs that ran the step (individual runs in the JSON):');
  for (const name of names) {
    const rows = [];
    for (const rate of allRates) {
      const steps = byServer(name).flatMap((r) => r.steps.filter((s) => s.rate === rate));
      if (!steps.length) continue;
      const m = (f) => median(steps.map(f));
      rows.push([
        int(rate),
        `${steps.filter((s) => s.keepsUp).length}/${steps.length}`,
        int(m((s) => s.delivered)),
        fmt(
          m((s) => s.p50Ms),
          2,
        ),
        fmt(
          m((s) => s.p99Ms),
          2,
        ),
        fmt(
          m((s) => s.maxMs),
          1,
        ),
        int(m((s) => s.lost)),
        fmt(
          m((s) => s.cpu.serverPct),
          0,
        ),
        fmt(
          m((s) => s.cpu.generatorPct),
          0,
        ),
        fmt(
          m((s) => s.cpu.otherPct),
          0,
        ),
      ]);
    }
    lines.push(`\n${name === 'convene' ? CONVENE_LABEL : name}:`);
    lines.push(
      table(
        [
          'offered/s',
          'kept up',
          'delivered/s',
          'p50 ms',
          'p99 ms',
          'max ms',
          'lost',
          'server CPU %',
          'generator CPU %',
          'other CPU %',
        ],
        rows,
      ),
    );
  }

  const summary = {};
  lines.push('\nMax throughput where the server keeps up (per run, then median):');
  const rows = [];
  for (const name of names) {
    const serverRuns = byServer(name);
    const maxes = serverRuns.map((r) => r.maxKeepUpRate);
    summary[name] = {
      maxKeepUpRate: median(maxes),
      runs: serverRuns.map((r) => ({
        maxKeepUpRate: r.maxKeepUpRate,
        delivered: r.best?.delivered,
        p50Ms: r.best?.p50Ms,
        p99Ms: r.best?.p99Ms,
        serverCpuPct: r.best?.cpu.serverPct,
        generatorCpuPct: r.best?.cpu.generatorPct,
        ceiling: r.ceiling,
      })),
    };
    const s = summary[name];
    s.deliveredAtMax = median(s.runs.map((r) => r.delivered));
    s.p50AtMaxMs = median(s.runs.map((r) => r.p50Ms));
    s.p99AtMaxMs = median(s.runs.map((r) => r.p99Ms));
    rows.push([
      name === 'convene' ? CONVENE_LABEL : name,
      int(s.maxKeepUpRate),
      maxes.map(int).join(', '),
      int(s.deliveredAtMax),
      fmt(s.p50AtMaxMs, 2),
      fmt(s.p99AtMaxMs, 2),
      [...new Set(s.runs.map((r) => r.ceiling))].join('; '),
    ]);
  }
  lines.push(
    table(['server', 'max keep-up msg/s (median)', 'runs', 'delivered/s', 'p50 ms', 'p99 ms', 'what stopped it'], rows),
  );

  if (summary.convene && summary.peerjs) {
    const majority = Math.ceil(config.repeats / 2);
    const keptUp = (name, rate) =>
      byServer(name).filter((r) => r.steps.some((s) => s.rate === rate && s.keepsUp)).length >= majority;
    const common = config.ladder.filter((rate) => keptUp('convene', rate) && keptUp('peerjs', rate)).pop();
    summary.commonRate = common ?? null;
    if (common) {
      const at = (name) => byServer(name).flatMap((r) => r.steps.filter((s) => s.rate === common));
      summary.atCommon = Object.fromEntries(
        ['peerjs', 'convene'].map((name) => [
          name,
          { p50Ms: median(at(name).map((s) => s.p50Ms)), p99Ms: median(at(name).map((s) => s.p99Ms)) },
        ]),
      );
      lines.push(`\nAt the highest common step both keep up with (${int(common)} msg/s offered):`);
      lines.push(
        table(
          ['server', 'p50 ms', 'p99 ms'],
          ['peerjs', 'convene'].map((name) => [
            name === 'convene' ? CONVENE_LABEL : name,
            fmt(summary.atCommon[name].p50Ms, 2),
            fmt(summary.atCommon[name].p99Ms, 2),
          ]),
        ),
      );
    }
    // Convene at the load where PeerJS still keeps up (PeerJS's max of the same repeat).
    const pairs = runs
      .filter((r) => r.server === 'convene')
      .map((r) => {
        const peer = runs.find((p) => p.server === 'peerjs' && p.repeat === r.repeat);
        const step = r.steps.find((s) => s.rate === peer?.maxKeepUpRate);
        return { rate: peer?.maxKeepUpRate, step };
      })
      .filter((x) => x.rate);
    summary.conveneAtPeerJsMax = {
      rates: pairs.map((x) => x.rate),
      p50Ms: median(pairs.map((x) => x.step?.p50Ms ?? Number.NaN)),
      p99Ms: median(pairs.map((x) => x.step?.p99Ms ?? Number.NaN)),
      keptUp: pairs.filter((x) => x.step?.keepsUp).length,
      runs: pairs.length,
    };
    summary.ratio = summary.convene.maxKeepUpRate / summary.peerjs.maxKeepUpRate;
    // Per repeat (both servers measured side by side in it), then the median.
    summary.pairedRatios = runs
      .filter((r) => r.server === 'convene')
      .map((r) => {
        const peer = runs.find((p) => p.server === 'peerjs' && p.repeat === r.repeat);
        return peer?.maxKeepUpRate ? r.maxKeepUpRate / peer.maxKeepUpRate : Number.NaN;
      });
    const c = summary.conveneAtPeerJsMax;
    const lowerBound = summary.convene.runs.some((r) => r.ceiling !== 'server fell behind');
    lines.push(
      `\n${CONVENE_LABEL} at PeerJS's max keep-up load (${c.rates.map(int).join(', ')} msg/s): ` +
        `p50 ${fmt(c.p50Ms, 2)} ms, p99 ${fmt(c.p99Ms, 2)} ms, kept up in ${c.keptUp}/${c.runs} runs`,
    );
    lines.push(
      `Throughput ratio ${CONVENE_LABEL}/PeerJS: ${lowerBound ? '≥ ' : ''}${fmt(summary.ratio, 2)}× of the medians; ` +
        `per repeat ${summary.pairedRatios.map((x) => `${fmt(x, 2)}×`).join(', ')} (median ${fmt(median(summary.pairedRatios), 2)}×) ` +
        `(target ≥ 3×: ${summary.ratio >= 3 ? 'MET' : 'NOT MET'}); p99 at PeerJS's max < 5 ms: ${c.p99Ms < 5 ? 'MET' : 'NOT MET'}`,
    );
    if (lowerBound)
      lines.push(`  (≥: some ${CONVENE_LABEL} runs stopped at the ladder top or the generator, not the server)`);
  }
  return { text: lines.join('\n'), summary };
}

async function main() {
  const ifaces = networkInterfaces();
  const machine = machineInfo();
  console.log(
    `signaling-relay: ${config.pairs * 2} clients (${config.pairs} pairs), ${config.workers} generator workers, ` +
      `${config.repeats} repeats, step = ${config.warmupUs / 1e6} s warm-up + ${config.measureUs / 1e6} s measured`,
  );
  console.log(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.ramGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, load ${machine.loadavg}`,
  );
  console.log(
    `network interfaces: ${ifaces.join(', ')}${ifaces.length === 1 && ifaces[0] === 'lo' ? ' (loopback-only namespace)' : ' — NOT a loopback-only namespace: run under `unshare -n`'}`,
  );
  if (config.servers.includes('convene')) {
    if (config.stub)
      console.log('⚠ --stub: "convene" is bench/lib/stub-server.mjs, NOT Convene. Harness development only.');
    else if (!conveneAvailable()) {
      console.error(
        '✖ packages/server/dist/cli.js does not exist: build the server (npm run build) or pass --servers peerjs',
      );
      process.exit(2);
    }
    console.log(
      `Convene flags: ${conveneArgs.join(' ')} (rate limit raised far above the ≤ ${Math.ceil(Math.max(...config.ladder) / (config.pairs * 2))} msg/s per connection the top step needs, so it never throttles)`,
    );
  }
  if (config.pin) {
    pin(process.pid, GENERATOR_CPUS);
    console.log(
      `pinning: server on CPU ${SERVER_CPUS}; generator workers and this orchestrator on CPU ${GENERATOR_CPUS}`,
    );
  } else console.log('no pinning: servers and generator share all CPUs (--pin off)');
  if (opts.profile) return profile(Number(opts.profile), 'cpu');
  if (opts['heap-profile']) return profile(Number(opts['heap-profile']), 'heap');

  const started = Date.now();
  const runs = [];
  for (let repeat = 1; repeat <= config.repeats; repeat++) {
    console.log(`\n── repeat ${repeat}/${config.repeats}`);
    try {
      runs.push(...(await runRepeat(repeat)));
    } catch (error) {
      harnessFailures.push(`repeat ${repeat}: ${error.message}`);
      console.error(`✖ repeat ${repeat}: ${error.stack}`);
    }
  }
  const { text, summary } = summarize(runs);
  console.log(text);
  const elapsed = (Date.now() - started) / 1000;
  console.log(`\ntotal time ${fmt(elapsed, 0)} s`);

  const out =
    opts.out ?? join(ROOT, 'bench', '.runs', `signaling-relay-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  saveResults(
    out,
    { machine, interfaces: ifaces, config, conveneArgs, summary, runs, harnessFailures },
    { failures: harnessFailures },
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
