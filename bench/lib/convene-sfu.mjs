// Convene's SFU (packages/sfu, built) as a target of bench/sfu-forward.mjs (interface: the SfuTarget
// typedef in lib/sfu-targets.mjs). The SFU runs in a process of its own, lib/convene-sfu-process.mjs
// (one NdcEngine bound to 127.0.0.1, one Router), started with an IPC channel; with `cpus` it is
// started as `taskset -c <cpus> node …` (taskset execs node: the pid stays the SFU's, and every
// thread libdatachannel starts inherits the mask). Needs `npm run build` (packages/sfu/dist).
//
// Negotiation as the SFU does it (packages/sfu/src/engine/ndc-engine.ts):
//   publish:   bot.offer() → router.publish() → bot.setAnswer(answer), every candidate in both SDPs
//   subscribe: router.subscribe() + consume every producer → our offer (no candidates) → bot.answer()
//              → setAnswer → our candidates trickled to the bot
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startProcess } from './child.mjs';
import { sleep } from './stats.mjs';

export const CONVENE_SFU_PROCESS = fileURLToPath(new URL('./convene-sfu-process.mjs', import.meta.url));
const SFU_PACKAGE = fileURLToPath(new URL('../../packages/sfu/package.json', import.meta.url));
const SFU_DIST = fileURLToPath(new URL('../../packages/sfu/dist/index.js', import.meta.url));

/** '@convene/sfu <version>, node-datachannel <version>' as installed. */
export function conveneSfuVersion() {
  const version = (file) => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')).version;
    } catch {
      return 'unknown';
    }
  };
  let ndc = 'unknown';
  try {
    // Its exports hide package.json: resolve the entry point, then up to the package's own folder.
    const entry = createRequire(SFU_DIST).resolve('node-datachannel');
    const dir = entry.slice(
      0,
      entry.lastIndexOf('/node_modules/node-datachannel/') + '/node_modules/node-datachannel'.length,
    );
    ndc = version(`${dir}/package.json`);
  } catch {}
  return `@convene/sfu ${version(SFU_PACKAGE)}, node-datachannel ${ndc}`;
}

/**
 * Convene's SFU as an SfuTarget. `udpPort` (or the environment's CONVENE_SFU_UDP_PORT): every
 * connection on that one UDP port (ICE UDP mux), 40000 by default, as a deployment runs it (one
 * port to open in the firewall); 0 for libdatachannel's ephemeral port per connection.
 */
function portOption(value) {
  return value === '0' || value === '' ? undefined : Number(value);
}

export function conveneTarget({
  name = 'convene',
  udpPort = portOption(process.env.CONVENE_SFU_UDP_PORT ?? '40000'),
  script = CONVENE_SFU_PROCESS,
} = {}) {
  let sfu = null; // { proc (startProcess), call }
  const counters = { subscribeRetries: 0 };
  // What describe() returns: one live object, so the router's counters that stop() fetches last
  // (after every measurement) reach the JSON even though the harness calls describe() before stop().
  const facts = {
    name,
    software: conveneSfuVersion(),
    command: null,
    config: { bindAddress: '127.0.0.1', udpPort: udpPort ?? 'off (a port per connection)' },
    counters,
    router: null,
    routerCountersAt: null,
  };

  const refreshRouterFacts = async () => {
    if (!sfu) return;
    const { counters: routerCounters, transports } = await sfu.call({ cmd: 'counters' }, 3000);
    facts.router = { counters: routerCounters, transports };
    facts.routerCountersAt = new Date().toISOString();
  };

  return {
    name,
    botAddress: '127.0.0.1',
    // As browsers do. Our offers carry no candidates, so the bot starts ICE after we do; as DTLS
    // server it would start DTLS after our ClientHello arrived, and libdatachannel resends that only
    // after 1 s (measured: p90 setup 1,005 ms as server, against tens of ms as client).
    botsAnswerAsDtlsServer: false,

    async start({ cpus } = {}) {
      if (!existsSync(SFU_DIST))
        throw new Error(`${SFU_DIST} is missing: build the SFU first (\`npm run build\` at the repo root)`);
      const args = udpPort === undefined ? [] : ['--udp-port', String(udpPort)];
      const pinned = cpus !== undefined && cpus !== null && cpus !== '';
      const nodeArgs = process.env.CONVENE_SFU_PROF
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.CONVENE_SFU_PROF]
        : [];
      const command = [
        ...(pinned ? ['taskset', '-c', String(cpus)] : []),
        process.execPath,
        ...nodeArgs,
        script,
        ...args,
      ];
      const proc = startProcess(command[0], command.slice(1), { ipc: true, serialization: 'json' });
      const { child, output } = proc;
      const pending = new Map();
      let seq = 0;
      let ready;
      const readyPromise = new Promise((resolve, reject) => {
        ready = { resolve, reject };
      });
      proc.exited.then(({ code, signal }) => {
        const why = new Error(`convene SFU exited (${code ?? signal}):\n${output().slice(-3000)}`);
        ready.reject(why);
        for (const p of pending.values()) {
          clearTimeout(p.timer);
          p.reject(why);
        }
        pending.clear();
      });
      child.on('message', (msg) => {
        if (msg?.ready) return ready.resolve(msg);
        const p = pending.get(msg?.req);
        if (!p) return;
        pending.delete(msg.req);
        clearTimeout(p.timer);
        if (msg.error) p.reject(new Error(`convene SFU ${p.cmd}: ${msg.error}`));
        else p.resolve(msg);
      });
      const call = (request, timeoutMs = 30_000) =>
        new Promise((resolve, reject) => {
          if (child.exitCode !== null || child.signalCode !== null)
            return reject(new Error('convene SFU is not running'));
          const req = ++seq;
          const timer = setTimeout(() => {
            pending.delete(req);
            reject(new Error(`convene SFU: no reply to ${request.cmd} in ${timeoutMs} ms`));
          }, timeoutMs);
          pending.set(req, { resolve, reject, timer, cmd: request.cmd });
          child.send({ ...request, req });
        });
      sfu = { proc, call };
      facts.command = command.join(' ');
      let timer;
      try {
        await Promise.race([
          readyPromise,
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`convene SFU: not ready after 20 s:\n${output().slice(-3000)}`)),
              20_000,
            );
          }),
        ]);
      } catch (error) {
        proc.kill();
        sfu = null;
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },

    async publish(bot) {
      const offerSdp = await bot.offer();
      const { answerSdp } = await sfu.call({ cmd: 'publish', id: bot.id, offerSdp });
      await bot.setAnswer(answerSdp);
      return { publisher: bot.id };
    },

    async subscribe(bot) {
      let reply;
      for (let attempt = 0; ; attempt++) {
        reply = await sfu.call({ cmd: 'subscribe', id: bot.id });
        if (!reply.notReady) break;
        if (attempt >= 50) throw new Error(`convene SFU subscribe ${bot.id}: ${reply.notReady} after 5 s`);
        counters.subscribeRetries++;
        await sleep(100);
      }
      const answer = await bot.answer(reply.offerSdp);
      const { candidates } = await sfu.call({ cmd: 'answer', id: bot.id, sdp: answer });
      for (const { candidate, sdpMid } of candidates) await bot.addRemoteCandidate(candidate, sdpMid);
    },

    pid: () => sfu?.proc.pid,

    /** The router's counters and transport states now (one IPC round trip to the SFU). */
    async counters() {
      await refreshRouterFacts();
      return facts.router;
    },

    describe: () => facts,

    log: () => sfu?.proc.output() ?? '',

    async stop() {
      if (!sfu) return null;
      const s = sfu;
      try {
        await refreshRouterFacts();
      } catch (error) {
        facts.routerCountersError = String(error.message ?? error);
      }
      sfu = null;
      const result = await s.proc.stop(5000);
      facts.exit = result;
      return result;
    },
  };
}
