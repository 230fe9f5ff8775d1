// Web Locks: one tab or worker at a time holds a (URL, client id) session.
// Resolves with a function that releases the lock, or null when `wait` is
// false and another holder has it. Without the Web Locks API it resolves
// with a no-op release.
export function acquireLock(name, wait) {
  const locks = globalThis.navigator && globalThis.navigator.locks;
  if (!locks) return Promise.resolve(() => {});
  return new Promise((resolve, reject) => {
    locks
      .request(name, { ifAvailable: !wait }, (lock) => {
        if (!lock) {
          resolve(null);
          return undefined;
        }
        return new Promise((release) => resolve(release));
      })
      .catch(reject);
  });
}
