// The esbuild options of the CLI bundle, shared by scripts/build.mjs and the test that guards which
// code each command's start-up loads (test/cli/bundle.test.ts).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Built-ins that are loaded on the first use of one of their exports: status, for one, starts no thread. */
const LAZY_BUILTINS = ['node:worker_threads'];

/**
 * Start-up: every command parses and runs the code of the chunks it loads, so the libraries on the path
 * of every command are taken in their lightest form.
 * - yaml is not in the chunks: src/formats/yaml-library.ts requires it when first needed from its own
 *   file, built by {@link yamlBuildOptions} (pointers and configs as mlx writes them are read without it).
 * - Node's built-in modules imported statically are required instead: an ES import of one builds a facade that reads
 *   every export at once (fs's streams, all of crypto), where a require reads only what is used. Those in
 *   LAZY_BUILTINS are required on first use.
 * - commander loads `child_process` at the top for executable subcommands, which mlx does not use; it is
 *   required when first used instead.
 */
const startupPlugin = {
  name: 'startup',
  setup(b) {
    // Static imports only: a dynamic import() of a CommonJS shim would see only its default export.
    // Each importing file gets its own shim (`node:fs?src/x.ts`), which then lives in that file's chunk:
    // one shim shared by files of several chunks would be a chunk of its own, loaded as one more module.
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' && args.namespace !== 'builtin'
        ? { path: `${args.path}?${path.relative(root, args.importer).split(path.sep).join('/')}`, namespace: 'builtin' }
        : { path: args.path, external: true },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const name = args.path.split('?')[0];
      if (!LAZY_BUILTINS.includes(name)) return { contents: `module.exports = require(${JSON.stringify(name)});`, loader: 'js' };
      // Getters for the module's exports (as this Node has them), which load it on first use.
      const load = `let loaded; const load = () => (loaded ??= require(${JSON.stringify(name)}));`;
      const exports = Object.keys(require(name)).map((key) => `Object.defineProperty(module.exports, ${JSON.stringify(key)}, { get: () => load()[${JSON.stringify(key)}], enumerable: true });`);
      return { contents: [load, ...exports].join('\n'), loader: 'js' };
    });
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const eager = "const childProcess = require('node:child_process');";
      const source = await fs.promises.readFile(args.path, 'utf8');
      if (!source.includes(eager)) return { contents: source, loader: 'js', warnings: [{ text: 'commander no longer requires child_process as expected: it stays eager' }] };
      return { contents: source.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
    });
  },
};

/** The file beside the chunks that holds the yaml library, which yaml-library.ts requires on first use. */
const YAML_FILE = 'yaml.cjs';

/**
 * The yaml library as one CommonJS file: it is required synchronously (the readers of pointer and
 * config files are synchronous), which an ES chunk cannot be. Built from its ES module build (the same
 * code as the CommonJS one that the `node` condition picks), which runs without one wrapper per module.
 */
export const yamlBuildOptions = {
  absWorkingDir: root,
  entryPoints: [path.join(path.dirname(require.resolve('yaml/package.json')), 'browser/dist/index.js')],
  outfile: `dist/cli/${YAML_FILE}`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  logLevel: 'warning',
};

/** Options for esbuild's `build`: one file per lazily-imported command, shared code in chunks. */
export const cliBuildOptions = {
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  minifySyntax: true,
  minifyWhitespace: true,
  // Native addons stay in node_modules (they load binaries). The AWS SDK is bundled too, in the chunk
  // only S3 remotes load: one file imports in ~0.16 s where its ~300 modules took ~0.23 s.
  external: ['@napi-rs/blake-hash', 'zstd-napi'],
  define: { MLX_VERSION: JSON.stringify(pkg.version), MLX_YAML_MODULE: JSON.stringify(`./${YAML_FILE}`) },
  banner: { js: "import { createRequire as __mlxCreateRequire } from 'node:module'; const require = __mlxCreateRequire(import.meta.url);" },
  plugins: [startupPlugin],
  logLevel: 'warning',
};

/**
 * The library (`exports` of package.json): src/api/index.ts as one ES module, dist/index.js. It shares
 * the CLI's yaml file (dist/cli/yaml.cjs) and leaves the native addons in node_modules, as the CLI does.
 */
export const libraryBuildOptions = {
  absWorkingDir: root,
  entryPoints: ['src/api/index.ts'],
  outfile: 'dist/index.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  external: cliBuildOptions.external,
  define: { MLX_VERSION: JSON.stringify(pkg.version), MLX_YAML_MODULE: JSON.stringify(`./cli/${YAML_FILE}`) },
  banner: cliBuildOptions.banner,
  logLevel: 'warning',
};
