import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cliPath = fileURLToPath(new URL('../packages/server/dist/cli.js', import.meta.url));

export interface RunningServer {
  url: string;
  process: ChildProcess;
  /** Everything the server printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the real `convene` CLI (the built server, serving the built web app) on a free port of
 * `host` (loopback unless a test says otherwise), as a user would with `npm start`.
 */
export async function startServer(extraArgs: string[] = [], host = '127.0.0.1'): Promise<RunningServer> {
  // Free ports for HTTP and TURN: a test's namespace may hold a server from the test before.
  const args = [cliPath, '--port', '0', '--turn-port', '0', '--host', host, ...extraArgs];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // The CLI prints the address to open, as it does for a person starting it.
      const match = /On this machine:\s+(https?:\/\/[^\s/]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });

  return {
    url,
    process: child,
    output: () => output,
    stop: async () => {
      process.off('exit', stopOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
