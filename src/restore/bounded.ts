// Runs async work over a list with at most `limit` calls in flight (restore's unit of parallelism).

/**
 * Calls `fn` for every element, starting the next as soon as one finishes, never more than `limit`
 * at once; elements start in list order. Resolves when all are done. `fn` should not throw (a
 * rejection stops no other call but rejects the whole run once every worker stopped).
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
}

/** Like {@link forEachBounded}, collecting results in list order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  await forEachBounded(items, limit, async (item, i) => {
    out[i] = await fn(item, i);
  });
  return out;
}

/** At most `limit` calls of `run` at once; the others wait their turn (first come, first served). */
export function limiter(limit: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <R>(fn: () => Promise<R>): Promise<R> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
