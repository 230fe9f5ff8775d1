// Waiting on a condition with a timeout, for the Node side (observer.mjs) and the test pages
// (pages/test-helpers.mjs) alike: no imports, only what both have (performance, setTimeout).

/**
 * Resolves with pred()'s value once it is truthy (checked every `every` ms), rejects with
 * `${prefix}timed out after ${ms} ms waiting for ${what}` after `ms`, or with what pred() throws.
 */
export function pollUntil(pred, { ms, what = "condition", every = 10, prefix = "" }) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const check = () => {
      let v;
      try {
        v = pred();
      } catch (e) {
        reject(e);
        return;
      }
      if (v) resolve(v);
      else if (performance.now() - started > ms) reject(new Error(`${prefix}timed out after ${ms} ms waiting for ${what}`));
      else setTimeout(check, every);
    };
    check();
  });
}
