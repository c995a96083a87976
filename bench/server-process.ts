// Starts `keepsake serve` as a child process for benchmarks, and reads its memory use.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Resident set size now and at its peak, in MB. */
  memory(): { rssMb: number; peakMb: number };
  stop(): Promise<void>;
}

export function cli(args: string[], input = ''): void {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`keepsake ${args.join(' ')} failed: ${r.stderr}`);
}

export function startServer(args: string[]): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    // KEEPSAKE_BENCH_NODE_ARGS passes flags to the server's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const nodeArgs = (process.env.KEEPSAKE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--port', '0', '--log-level', 'error', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        resolve({
          url: m[1],
          child,
          memory() {
            const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
            const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
            return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
          },
          stop: () =>
            new Promise((res) => {
              child.once('exit', () => res());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
}
