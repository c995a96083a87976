// Finding and running the real DAV clients (python3-caldav, vdirsyncer, litmus) that CI installs from Debian.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const INSTALL = 'install it with: apt-get install -y python3-caldav vdirsyncer litmus (.ci/run does)';

/** A python3 that can `import caldav`; fails the test with a clear message when there is none. */
export function pythonWithCaldav(): string {
  for (const p of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(p, ['-c', 'import caldav'], { encoding: 'utf8' });
    if (r.status === 0) return p;
  }
  throw new Error(`no python3 with the caldav library found; ${INSTALL}`);
}

/** The path of a client binary; fails the test with a clear message when it is missing. */
export function requireBinary(name: string): string {
  for (const dir of ['/usr/bin', '/usr/local/bin', '/bin']) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  throw new Error(`${name} is not installed; ${INSTALL}`);
}

/** Runs a command to completion (without blocking the event loop, so the in-process server keeps answering). */
export function run(cmd: string, args: string[], options: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
