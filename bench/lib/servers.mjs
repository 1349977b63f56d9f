// Starts the servers under test, each in a child process of its own, and finds their URL.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startProcess } from './child.mjs';
import { listeningPorts } from './proc.mjs';

export { ROOT };
export const CONVENE_CLI = join(ROOT, 'packages', 'server', 'dist', 'cli.js');
const STUB_CLI = join(ROOT, 'bench', 'lib', 'stub-server.mjs');
const PEERJS_CLI = join(ROOT, 'bench', 'lib', 'peerjs-server.mjs');
export const MEM_PROBE = join(ROOT, 'bench', 'lib', 'mem-probe.mjs');

/**
 * Spawns `node [nodeArgs] script [args]` and resolves once it serves HTTP: its URL from its
 * output (http://127.0.0.1:<port>, port not 0), or else the port it is seen listening on.
 */
async function startNodeServer(name, script, args, { nodeArgs = [], ipc = false, timeoutMs = 20_000 } = {}) {
  const proc = startProcess(process.execPath, [...nodeArgs, script, ...args], { ipc, serialization: 'advanced' });
  const { child, output } = proc;
  const url = await new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const deadline = startedAt + timeoutMs;
    const poll = setInterval(() => {
      const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output());
      if (match && match[1] !== '0') return done(`http://127.0.0.1:${match[1]}`);
      // No URL printed (e.g. a quiet log level): after 1.5 s take the one port it listens on.
      const ports = listeningPorts(child.pid);
      if (ports.length === 1 && Date.now() > startedAt + 1500) return done(`http://127.0.0.1:${ports[0]}`);
      if (Date.now() > deadline)
        fail(new Error(`${name} did not start within ${timeoutMs} ms:\n${output().slice(-3000)}`));
    }, 50);
    const onExit = (code, signal) =>
      fail(new Error(`${name} exited (${code ?? signal}) before serving:\n${output().slice(-3000)}`));
    const done = (value) => {
      clearInterval(poll);
      child.off('exit', onExit);
      resolve(value);
    };
    const fail = (error) => {
      clearInterval(poll);
      child.off('exit', onExit);
      proc.kill();
      reject(error);
    };
    child.once('exit', onExit);
  });
  return { name, url, pid: child.pid, child, output, stop: (graceMs = 5000) => proc.stop(graceMs) };
}

export function conveneAvailable() {
  return existsSync(CONVENE_CLI);
}

/**
 * Convene's real CLI (packages/server/dist/cli.js), or with `stub: true` the harness's stand-in
 * (bench/lib/stub-server.mjs: same protocol subset and flags; for developing the harness only).
 */
export async function startConvene({ args = [], nodeArgs = [], ipc = false, stub = false } = {}) {
  const script = stub ? STUB_CLI : CONVENE_CLI;
  if (!existsSync(script)) throw new Error(`${script} does not exist: build the server first (npm run build)`);
  const server = await startNodeServer(
    stub ? 'convene-stub' : 'convene',
    script,
    ['--port', '0', '--host', '127.0.0.1', ...args],
    {
      nodeArgs,
      ipc,
    },
  );
  return { ...server, wsUrl: `${server.url.replace('http:', 'ws:')}/ws` };
}

/** The PeerJS server (npm `peer`), as `PeerServer` in a child process of its own. */
export async function startPeerJs({ nodeArgs = [], ipc = false, concurrentLimit = 100_000 } = {}) {
  const server = await startNodeServer('peerjs', PEERJS_CLI, ['--concurrent-limit', String(concurrentLimit)], {
    nodeArgs,
    ipc,
  });
  return { ...server, wsUrl: `${server.url.replace('http:', 'ws:')}/peerjs` };
}

/** Asks a server child started with `ipc` and MEM_PROBE preloaded to GC and report memory. */
export function probeMemory(server) {
  return new Promise((resolve, reject) => {
    const id = Math.random();
    const timer = setTimeout(() => reject(new Error(`${server.name}: memory probe timed out`)), 30_000);
    const onMessage = (message) => {
      if (message?.type !== 'mem-probe' || message.id !== id) return;
      clearTimeout(timer);
      server.child.off('message', onMessage);
      resolve(message);
    };
    server.child.on('message', onMessage);
    server.child.send({ type: 'mem-probe', id });
  });
}
