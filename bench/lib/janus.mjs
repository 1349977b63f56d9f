// Janus (Debian janus 1.1.2) VideoRoom as an SFU target of bench/sfu-forward.mjs: its process with a
// config of our own in a temp dir, the veth it needs in a loopback-only namespace, and a small
// client of its WebSocket API. Never touches /etc/janus (it only reads the plugin folders).
//
// Recipe (shared/design/TESTING.md): Janus skips loopback interfaces when it gathers ICE candidates,
// so it gets a veth `jb0` carrying 127.0.0.2/32 (`janus -i 127.0.0.1 -E jb0`) and the bots bind
// 127.0.0.2. 127/8 is local: nothing leaves the namespace.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startProcess } from './child.mjs';
import { networkInterfaces } from './proc.mjs';
import { sleep } from './stats.mjs';
import { freePorts } from './turn-servers.mjs';

export const JANUS_BIN = '/usr/bin/janus';
const LIB = '/usr/lib/x86_64-linux-gnu/janus';
export const VETH = { dev: 'jb0', peer: 'jb0p', address: '127.0.0.2' };

export function janusVersion() {
  const r = spawnSync(JANUS_BIN, ['--help'], { encoding: 'utf8' });
  return /Janus version: \d+ \(([^)]+)\)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/**
 * The veth Janus gathers its candidate on (127.0.0.2 on jb0). Only ever in a namespace of our own:
 * refuses when the namespace has any interface other than lo and this veth.
 */
export function ensureVeth() {
  const ifaces = networkInterfaces();
  const foreign = ifaces.filter((name) => !['lo', VETH.dev, VETH.peer].includes(name));
  if (foreign.length) throw new Error(`not a loopback-only namespace (${ifaces.join(', ')}): refusing to add a veth`);
  if (ifaces.includes(VETH.dev)) return;
  ip('link', 'add', VETH.dev, 'type', 'veth', 'peer', 'name', VETH.peer);
  ip('link', 'set', VETH.peer, 'up');
  ip('addr', 'add', `${VETH.address}/32`, 'dev', VETH.dev);
  ip('link', 'set', VETH.dev, 'up');
}

export function removeVeth() {
  if (networkInterfaces().includes(VETH.dev)) spawnSync('ip', ['link', 'del', VETH.dev]);
}

/** Writes janus.jcfg + websockets + videoroom configs: only the videoroom plugin and the WebSocket transport load. */
function writeConfig(dir, { eventLoops, wsPort, debugLevel }) {
  const soNames = (folder) =>
    existsSync(join(LIB, folder)) ? readdirSync(join(LIB, folder)).filter((f) => /^libjanus_\w+\.so$/.test(f)) : [];
  const disable = (folder, keep) =>
    soNames(folder)
      .filter((f) => f !== keep)
      .join(',');
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
	configs_folder = "${dir}"
	plugins_folder = "${LIB}/plugins"
	transports_folder = "${LIB}/transports"
	events_folder = "${LIB}/events"
	loggers_folder = "${LIB}/loggers"
	debug_level = ${debugLevel}
	admin_secret = "bench-admin"
	session_timeout = 60
${eventLoops > 0 ? `	event_loops = ${eventLoops}\n` : ''}}
certificates: {
}
media: {
	ipv6 = false
}
nat: {
	nice_debug = false
	ice_ignore_list = "vmnet"
}
plugins: {
	disable = "${disable('plugins', 'libjanus_videoroom.so')}"
}
transports: {
	disable = "${disable('transports', 'libjanus_websockets.so')}"
}
loggers: {
	disable = "${disable('loggers', '')}"
}
events: {
	broadcast = false
}
`,
  );
  writeFileSync(
    join(dir, 'janus.transport.websockets.jcfg'),
    `general: {
	json = "compact"
	ws = true
	ws_port = ${wsPort}
	ws_ip = "127.0.0.1"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
`,
  );
  // No static rooms: the harness creates its room through the API.
  writeFileSync(join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');
}

/**
 * Starts Janus in this (namespace's) network. `eventLoops` 0 = Janus's default (a thread and loop per
 * handle), n > 0 = `event_loops = n`. `cpus` pins it (taskset -c) and every thread it starts.
 */
export async function startJanus({ eventLoops = 0, debugLevel = 3, cpus } = {}) {
  ensureVeth();
  const dir = mkdtempSync(join(tmpdir(), 'bench-janus-'));
  const wsPort = await freePorts(1);
  writeConfig(dir, { eventLoops, wsPort, debugLevel });
  const logFile = join(dir, 'janus.log');
  const args = ['-F', dir, '-i', '127.0.0.1', '-E', VETH.dev, '-N', '-L', logFile];
  const proc =
    cpus === undefined
      ? startProcess(JANUS_BIN, args)
      : startProcess('taskset', ['-c', String(cpus), JANUS_BIN, ...args]);
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return proc.output();
    }
  };
  const url = `ws://127.0.0.1:${wsPort}`;
  const deadline = Date.now() + 20_000;
  let api = null;
  while (!api) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(
        `janus exited at start (${proc.child.exitCode ?? proc.child.signalCode}):\n${log().slice(-3000)}`,
      );
    try {
      api = await JanusApi.connect(url);
    } catch {
      if (Date.now() > deadline) {
        proc.kill();
        throw new Error(`janus: no WebSocket API on ${url} after 20 s:\n${log().slice(-3000)}`);
      }
      await sleep(100);
    }
  }
  return {
    pid: proc.pid,
    url,
    api,
    dir,
    log,
    command: [...(cpus === undefined ? [] : ['taskset', '-c', String(cpus)]), JANUS_BIN, ...args].join(' '),
    stop: async () => {
      api.close();
      const result = await proc.stop(8000);
      rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
}

// ------------------------------------------------------------------ WebSocket API client

/** Janus API over one WebSocket (subprotocol janus-protocol); sessions are kept alive by one timer. */
export class JanusApi {
  static connect(url, timeoutMs = 2000) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'janus-protocol', { perMessageDeflate: false });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('timeout'));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(new JanusApi(ws));
      });
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.seq = 0;
    this.pending = new Map();
    this.handleListeners = new Map(); // handle id → (msg) => void, for events without our transaction
    this.sessions = new Set();
    this.unexpected = []; // hangups, errors, timeouts: kept for the report
    this.closed = false;
    ws.on('message', (data) => this.#onMessage(JSON.parse(data.toString())));
    ws.on('close', () => {
      this.closed = true;
      for (const { reject } of this.pending.values()) reject(new Error('janus WebSocket closed'));
      this.pending.clear();
    });
    ws.on('error', () => {});
    this.keepalive = setInterval(() => {
      for (const session_id of this.sessions) this.#send({ janus: 'keepalive', session_id }).catch(() => {});
    }, 20_000);
  }

  #onMessage(msg) {
    const p = msg.transaction ? this.pending.get(msg.transaction) : undefined;
    if (p) {
      if (msg.janus === 'ack' && !p.ackIsReply) return; // an async request: its reply comes as an event
      this.pending.delete(msg.transaction);
      clearTimeout(p.timer);
      if (msg.janus === 'error') p.reject(new Error(`janus error ${msg.error?.code}: ${msg.error?.reason}`));
      else p.resolve(msg);
      return;
    }
    const listener = msg.sender ? this.handleListeners.get(msg.sender) : undefined;
    if (listener) listener(msg);
    if (['hangup', 'detached', 'timeout', 'error'].includes(msg.janus))
      this.unexpected.push({ janus: msg.janus, reason: msg.reason, sender: msg.sender, error: msg.error });
  }

  #send(msg, { timeoutMs = 30_000, ackIsReply = false } = {}) {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('janus WebSocket closed'));
      const transaction = `t${++this.seq}`;
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new Error(`janus: no reply to ${msg.janus} ${msg.body?.request ?? ''} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(transaction, { resolve, reject, timer, ackIsReply });
      this.ws.send(JSON.stringify({ ...msg, transaction }));
    });
  }

  async createSession() {
    const reply = await this.#send({ janus: 'create' });
    this.sessions.add(reply.data.id);
    return reply.data.id;
  }

  async attach(sessionId, plugin = 'janus.plugin.videoroom') {
    const reply = await this.#send({ janus: 'attach', session_id: sessionId, plugin });
    return reply.data.id;
  }

  /** A plugin request; resolves with { data, jsep } of the (sync or async) reply. */
  async message(sessionId, handleId, body, jsep) {
    const reply = await this.#send({
      janus: 'message',
      session_id: sessionId,
      handle_id: handleId,
      body,
      ...(jsep ? { jsep } : {}),
    });
    const data = reply.plugindata?.data ?? {};
    if (data.error_code || data.error) {
      const error = new Error(`videoroom ${body.request}: ${data.error_code} ${data.error}`);
      error.code = data.error_code;
      throw error;
    }
    return { data, jsep: reply.jsep };
  }

  async trickleCompleted(sessionId, handleId) {
    await this.#send(
      { janus: 'trickle', session_id: sessionId, handle_id: handleId, candidate: { completed: true } },
      { ackIsReply: true },
    );
  }

  async destroySession(sessionId) {
    this.sessions.delete(sessionId);
    try {
      await this.#send({ janus: 'destroy', session_id: sessionId }, { timeoutMs: 5000 });
    } catch {}
  }

  onHandle(handleId, listener) {
    this.handleListeners.set(handleId, listener);
  }

  close() {
    clearInterval(this.keepalive);
    try {
      this.ws.close();
    } catch {}
  }
}

// ------------------------------------------------------------------ the target adapter

const ROOM = 1234;

/**
 * Janus VideoRoom as an SFU target (interface: lib/sfu-targets.mjs). Each participant has a session
 * and a videoroom handle of its own, over one WebSocket. Publisher: join as publisher, `publish` with
 * the bot's offer → Janus's answer. Subscriber: join as subscriber to the publisher's feed (retried
 * on 428 No such feed) → Janus's offer → the bot's answer with `start`. Full ICE: both sides put all
 * candidates in their SDP (`trickle: false`); candidates Janus trickles anyway go to the bot.
 */
export function janusTarget({ name = 'janus', eventLoops = 0, debugLevel = 3 } = {}) {
  let janus = null;
  const handles = new Map(); // handle id → { bot, webrtcupAt, events }
  const counters = { subscribeRetries428: 0, webrtcup: 0, hangups: 0, trickledFromJanus: 0 };

  const watch = (handleId, bot) => {
    const entry = { bot, webrtcupAt: null, media: {} };
    handles.set(handleId, entry);
    janus.api.onHandle(handleId, (msg) => {
      if (msg.janus === 'webrtcup') {
        counters.webrtcup++;
        entry.webrtcupAt = performance.now();
      } else if (msg.janus === 'hangup') counters.hangups++;
      else if (msg.janus === 'media') entry.media[msg.type ?? msg.mid] = msg.receiving;
      else if (msg.janus === 'trickle' && msg.candidate?.candidate) {
        counters.trickledFromJanus++;
        bot.addRemoteCandidate(msg.candidate.candidate, msg.candidate.sdpMid ?? '0').catch(() => {});
      }
    });
  };

  return {
    name,
    botAddress: VETH.address,
    async start({ cpus } = {}) {
      janus = await startJanus({ eventLoops, debugLevel, cpus });
      const session = await janus.api.createSession();
      const handle = await janus.api.attach(session);
      await janus.api.message(session, handle, {
        request: 'create',
        room: ROOM,
        description: 'bench',
        publishers: 16,
        bitrate: 0, // no REMB cap
        fir_freq: 0, // no periodic PLI/FIR
        audiocodec: 'opus',
        videocodec: 'vp8',
        notify_joining: false,
        permanent: false,
      });
    },
    async publish(bot) {
      const { api } = janus;
      const session = await api.createSession();
      const handle = await api.attach(session);
      watch(handle, bot);
      const joined = await api.message(session, handle, {
        request: 'join',
        ptype: 'publisher',
        room: ROOM,
        display: `bot-${bot.id}`,
      });
      const offer = await bot.offer();
      const reply = await api.message(
        session,
        handle,
        { request: 'publish' },
        { type: 'offer', sdp: offer, trickle: false },
      );
      if (!reply.jsep?.sdp) throw new Error('janus publish: no answer JSEP');
      await bot.setAnswer(reply.jsep.sdp);
      return { feed: joined.data.id };
    },
    async subscribe(bot, { feed }) {
      const { api } = janus;
      const session = await api.createSession();
      const handle = await api.attach(session);
      watch(handle, bot);
      let reply;
      for (let attempt = 0; ; attempt++) {
        try {
          reply = await api.message(session, handle, {
            request: 'join',
            ptype: 'subscriber',
            room: ROOM,
            streams: [{ feed }],
          });
          break;
        } catch (error) {
          if (error.code !== 428 || attempt >= 50) throw error;
          counters.subscribeRetries428++;
          await sleep(100);
        }
      }
      if (!reply.jsep?.sdp) throw new Error('janus subscriber join: no offer JSEP');
      const answer = await bot.answer(reply.jsep.sdp);
      await api.message(session, handle, { request: 'start' }, { type: 'answer', sdp: answer, trickle: false });
    },
    pid: () => janus?.pid,
    describe: () => ({
      name,
      software: `janus ${janusVersion()}`,
      command: janus?.command,
      eventLoops: eventLoops > 0 ? eventLoops : 'default (a loop and thread per handle)',
      debugLevel,
      counters: { ...counters },
      janusApiUnexpected: janus?.api.unexpected.slice(0, 50),
    }),
    log: () => janus?.log() ?? '',
    async stop() {
      if (!janus) return null;
      const j = janus;
      janus = null;
      handles.clear();
      return j.stop();
    },
  };
}
