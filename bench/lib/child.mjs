// The benchmarks' child processes (servers under test, load tools, the SFU): one way to start
// them, keep the tail of their output, stop them by pid, and kill whatever is left when the
// harness exits or is interrupted.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const OUTPUT_KEEP_CHARS = 400_000;

const started = new Set();
function killAll() {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) killPid(child.pid, 'SIGKILL');
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal] ?? 0));
  });
}

function killPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {}
}

/**
 * Spawns `file args` in the repository root. `ipc`: an IPC channel (`child.send`, 'message'; the
 * child must be node, possibly behind taskset, which execs it), with `serialization`. `onLine`
 * sees each stdout line with its arrival time (hrtime). Returns the child, its pid, `exited`
 * (resolves with { code, signal }), `output()` (the tail of stdout + stderr), `stop(graceMs)`
 * (SIGTERM by pid, SIGKILL after graceMs; resolves with how it ended) and `kill()`.
 */
export function startProcess(file, args, { ipc = false, serialization = 'json', onLine } = {}) {
  const child = spawn(file, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])],
    ...(ipc ? { serialization } : {}),
  });
  started.add(child);
  let output = '';
  let partial = '';
  const keep = (chunk, stream) => {
    const text = chunk.toString();
    output += text;
    if (output.length > OUTPUT_KEEP_CHARS) output = output.slice(-OUTPUT_KEEP_CHARS / 2);
    if (onLine && stream === 'stdout') {
      const lines = (partial + text).split('\n');
      partial = lines.pop();
      for (const line of lines) onLine(line, process.hrtime.bigint());
    }
  };
  child.stdout.on('data', (chunk) => keep(chunk, 'stdout'));
  child.stderr.on('data', (chunk) => keep(chunk, 'stderr'));
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      started.delete(child);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    pid: child.pid,
    exited,
    output: () => output,
    stop: async (graceMs = 3000) => {
      if (child.exitCode !== null || child.signalCode !== null)
        return { code: child.exitCode, signal: child.signalCode };
      killPid(child.pid, 'SIGTERM');
      const timer = setTimeout(() => killPid(child.pid, 'SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    kill: () => killPid(child.pid, 'SIGKILL'),
  };
}
