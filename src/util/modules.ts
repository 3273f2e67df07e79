/**
 * A CommonJS module's exports after a dynamic `import()`: Node gives them as named exports (beside
 * `default`), our esbuild bundle only as `default`. Either way, the exports object comes back.
 */
export function commonJsExports<T extends object>(mod: T): T {
  const inner = (mod as { default?: T }).default;
  const named = Object.keys(mod).filter((k) => k !== 'default').length;
  return named === 0 && inner !== undefined ? inner : mod;
}
