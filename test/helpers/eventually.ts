// The one way tests poll: retry a check until it passes, bounded by a deadline.

/**
 * Retries `check` until it returns without throwing, and returns what it returned; after `timeoutMs` rethrows the last
 * failure (so a test fails with the assertion that never held). Checks assert with `expect`: a check that returns
 * `false` has passed.
 */
export async function eventually<T>(check: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() >= deadline) throw e;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
