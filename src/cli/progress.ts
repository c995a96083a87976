// A one-line progress display on stderr for long commands (only on a terminal; silent otherwise).

/** Returns `update(text)` and `done()`; updates are throttled to ten a second. */
export function progressLine(enabled = process.stderr.isTTY === true): { update(text: string): void; done(): void } {
  let last = 0;
  let shown = false;
  return {
    update(text: string) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\u001b[2K${text.slice(0, (process.stderr.columns || 100) - 1)}`);
    },
    done() {
      if (enabled && shown) process.stderr.write('\r\u001b[2K');
    },
  };
}

/** `[#####-----] 50%` for a fraction from 0 to 1. */
export function bar(fraction: number, width = 20): string {
  const f = Math.max(0, Math.min(1, fraction));
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'-'.repeat(width - n)}] ${Math.round(f * 100)}%`;
}
