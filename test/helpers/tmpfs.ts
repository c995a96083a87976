// Tiny real filesystems for full-disk tests: a tmpfs of a given size (needs root to mount).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const mounted: string[] = [];

/** Mounts a tmpfs of `size` (e.g. `3m`) on `dir`; false when this process may not mount. */
export function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (r.status === 0) mounted.push(dir);
  return r.status === 0;
}

/** Unmounts every tmpfs this process mounted (call from `after`). */
export function unmountAll(): void {
  for (const m of mounted.splice(0)) spawnSync('umount', ['-l', m]);
}
