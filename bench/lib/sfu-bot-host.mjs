// A process holding node-datachannel bots (lib/sfu-bots.mjs) for bench/sfu-forward.mjs, driven over
// IPC: the orchestrator forks it (startBotHost) and calls bot methods through RemoteBot proxies, so
// the publisher's pacing and the subscribers' per-packet counting each get a JS thread of their own,
// and their CPU is measured apart from the orchestrator's.
//
// As a module (imported by the orchestrator): startBotHost(). As a script (forked): the host.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

// ------------------------------------------------------------------ orchestrator side

let hostCounter = 0;
const hosts = new Set();
process.once('exit', () => {
  for (const host of hosts) host.kill();
});

/** Forks a bot host; resolves once it is up. `cpus` (e.g. "1") pins it and its future threads. */
export async function startBotHost({ name = `bots-${++hostCounter}`, cpus } = {}) {
  const child = fork(SELF, ['--host', name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
  const pending = new Map();
  let seq = 0;
  let exited = false;
  const exitedPromise = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      hosts.delete(host);
      for (const { reject } of pending.values()) reject(new Error(`bot host ${name} exited (${code ?? signal})`));
      pending.clear();
      resolve({ code, signal });
    }),
  );
  child.on('message', (msg) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${name}: ${msg.error}`));
    else p.resolve(msg.value);
  });
  const call = (method, ...args) =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`bot host ${name} is gone`));
      const id = ++seq;
      pending.set(id, { resolve, reject });
      child.send({ id, method, args });
    });
  const host = {
    name,
    pid: child.pid,
    call,
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
    /** A publisher bot in this host; `opts` as PublisherBot. */
    createPublisher: async (opts) => new RemoteBot(host, 'publisher', await call('create', 'publisher', opts)),
    /** A subscriber bot in this host; `opts` as SubscriberBot. */
    createSubscriber: async (opts) => new RemoteBot(host, 'subscriber', await call('create', 'subscriber', opts)),
    /** Sums over this host's subscribers (and publisher stats), one IPC round trip. */
    snapshot: (opts) => call('snapshot', opts),
    cpuUsage: () => call('cpuUsage'),
    stop: async () => {
      if (exited) return exitedPromise;
      try {
        await Promise.race([call('shutdown'), new Promise((resolve) => setTimeout(resolve, 5000))]);
      } catch {}
      const timer = setTimeout(() => host.kill(), 3000);
      const result = await exitedPromise;
      clearTimeout(timer);
      return result;
    },
  };
  hosts.add(host);
  await call('ping');
  if (cpus !== undefined) {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('taskset', ['-a', '-p', '-c', String(cpus), String(child.pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`taskset ${cpus} ${child.pid}: ${r.stderr}`);
  }
  return host;
}

/**
 * A bot living in a bot host. Same async methods as PublisherBot / SubscriberBot: offer(),
 * answer(sdp), setAnswer(sdp), addRemoteCandidate(candidate, mid), connected(timeoutMs), stats(),
 * close(); publishers also startMedia(opts), stopMedia().
 */
export class RemoteBot {
  constructor(host, kind, id) {
    this.host = host;
    this.kind = kind;
    this.id = id;
  }
  #call(method, ...args) {
    return this.host.call('bot', this.id, method, args);
  }
  offer() {
    return this.#call('offer');
  }
  answer(sdp) {
    return this.#call('answer', sdp);
  }
  setAnswer(sdp) {
    return this.#call('setAnswer', sdp);
  }
  addRemoteCandidate(candidate, mid) {
    return this.#call('addRemoteCandidate', candidate, mid);
  }
  connected(timeoutMs) {
    return this.#call('connected', timeoutMs);
  }
  stats(opts) {
    return this.#call('stats', opts);
  }
  startMedia(opts) {
    return this.#call('startMedia', opts);
  }
  stopMedia() {
    return this.#call('stopMedia');
  }
  close() {
    return this.#call('close');
  }
}

// ------------------------------------------------------------------ host side

async function runHost() {
  const { PublisherBot, SubscriberBot, addCounts, emptyCounts } = await import('./sfu-bots.mjs');
  const bots = new Map();
  const METHODS = new Set([
    'offer',
    'answer',
    'setAnswer',
    'addRemoteCandidate',
    'connected',
    'stats',
    'startMedia',
    'stopMedia',
    'close',
  ]);
  const handlers = {
    ping: () => process.pid,
    create: (kind, opts) => {
      const bot = kind === 'publisher' ? new PublisherBot(opts) : new SubscriberBot(opts);
      if (bots.has(bot.id)) throw new Error(`bot id ${bot.id} exists`);
      bots.set(bot.id, bot);
      return bot.id;
    },
    bot: (id, method, args) => {
      const bot = bots.get(id);
      if (!bot) throw new Error(`no bot ${id}`);
      if (!METHODS.has(method) || typeof bot[method] !== 'function') throw new Error(`no method ${method}`);
      return bot[method](...args.map((arg) => (arg === null ? undefined : arg)));
    },
    snapshot: async ({ detail = false } = {}) => {
      const subscribers = { bots: 0, connected: 0, video: emptyCounts(), audio: emptyCounts(), rtcp: {} };
      const publishers = [];
      const perBot = [];
      for (const bot of bots.values()) {
        const s = await bot.stats({ detail });
        if (bot.kind === 'publisher') {
          publishers.push(s);
          continue;
        }
        subscribers.bots++;
        if (bot.state === 'connected') subscribers.connected++;
        addCounts(subscribers.video, { ...s.video });
        addCounts(subscribers.audio, { ...s.audio });
        for (const [k, v] of Object.entries(s.rtcp)) subscribers.rtcp[k] = (subscribers.rtcp[k] ?? 0) + v;
        if (detail) perBot.push(s);
      }
      return { at: performance.now(), publishers, subscribers, ...(detail ? { perBot } : {}) };
    },
    cpuUsage: () => process.cpuUsage(),
    shutdown: async () => {
      for (const bot of bots.values()) await bot.close();
      bots.clear();
      setTimeout(() => process.exit(0), 200);
      return true;
    },
  };
  process.on('message', async ({ id, method, args }) => {
    try {
      const handler = handlers[method];
      if (!handler) throw new Error(`unknown call ${method}`);
      // JSON turns an undefined argument into null: back to undefined, so defaults apply.
      const value = await handler(...args.map((arg) => (arg === null ? undefined : arg)));
      process.send({ id, value: value === undefined ? null : value });
    } catch (error) {
      process.send({ id, error: String(error?.message ?? error) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[2] === '--host' && process.send) runHost();
