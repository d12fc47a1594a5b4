/**
 * Retries `check` until it passes or `withinMs` has gone by, then throws its last failure: a wait
 * for a condition with a bound, never a sleep that hopes.
 */
export async function eventually(check: () => Promise<void> | void, withinMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
