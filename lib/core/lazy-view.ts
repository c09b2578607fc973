/**
 * An object (or array) that stands for `produce()`'s result, computed on first use and kept.
 * For values assembled from modules that import the module defining them: they are complete
 * only once every module has loaded, which is after this module's constants are defined.
 */
export function lazyView<T extends object>(empty: T, produce: () => T): T {
  let value: T | undefined;
  const get = () => (value ??= produce());
  return new Proxy(empty, {
    get: (_target, key) => Reflect.get(get(), key),
    has: (_target, key) => Reflect.has(get(), key),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(get(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}
