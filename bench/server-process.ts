// Starts `keepsake serve` as a child process for benchmarks, and reads its memory use.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** bin/keepsake, the command users run (compiled bench files live in dist/bench). */
export const LAUNCHER = fileURLToPath(new URL('../../bin/keepsake', import.meta.url));

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
    // The server starts as users start it: through bin/keepsake (which sets MALLOC_ARENA_MAX).
    // KEEPSAKE_BENCH_NODE_ARGS runs node directly with those flags instead, e.g.
    // "--cpu-prof --cpu-prof-dir=/tmp/prof", keeping the launcher's environment.
    const nodeArgs = (process.env.KEEPSAKE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const serveArgs = ['serve', '--port', '0', '--log-level', 'error', ...args];
    const child = nodeArgs.length
      ? spawn(process.execPath, [...nodeArgs, CLI, ...serveArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { MALLOC_ARENA_MAX: '2', ...process.env } })
      : spawn(LAUNCHER, serveArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
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
