import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliBuildOptions, yamlBuildOptions } from '../../scripts/build-options.mjs';

/*
 * Start-up cost is the code a command loads before it runs: every chunk it imports statically is read,
 * parsed and run. These tests build the bundle in memory (as `npm run build` does) and check, from
 * esbuild's metafile, which sources the start-up path of `--help` and of `mlx status` pulls in. The
 * heavy libraries (AWS SDK, isomorphic-git, hash-wasm, zod's locales) belong to the commands that use
 * them, behind a dynamic import().
 */

let meta: Metafile;
let yamlMeta: Metafile;

beforeAll(async () => {
  const result = await build({ ...cliBuildOptions, write: false, metafile: true, sourcemap: false, logLevel: 'silent' });
  meta = result.metafile;
  yamlMeta = (await build({ ...yamlBuildOptions, write: false, metafile: true, logLevel: 'silent' })).metafile;
}, 120_000);

/** The output chunk whose entry is `entry` (main, or a module that is imported dynamically). */
function chunkOf(entry: string): string {
  const found = Object.entries(meta.outputs).find(([, out]) => out.entryPoint === entry);
  if (!found) throw new Error(`no chunk has the entry ${entry}`);
  return found[0];
}

/** Every source in the chunks that loading `entry` imports statically (its start-up path). */
function startupSources(entry: string): string[] {
  const seen = new Set<string>();
  const pending = [chunkOf(entry)];
  while (pending.length > 0) {
    const chunk = pending.pop()!;
    if (seen.has(chunk)) continue;
    seen.add(chunk);
    for (const imp of meta.outputs[chunk]!.imports) if (imp.kind === 'import-statement' && !imp.external) pending.push(imp.path);
  }
  return [...seen].flatMap((chunk) => Object.keys(meta.outputs[chunk]!.inputs));
}

/** The sources among `sources` that match one of `patterns`. */
function matching(sources: string[], patterns: RegExp[]): string[] {
  return sources.filter((s) => patterns.some((p) => p.test(s)));
}

const HEAVY_LIBRARIES = [/node_modules\/@aws-sdk\//, /node_modules\/@smithy\//, /node_modules\/isomorphic-git\//, /node_modules\/hash-wasm\//, /node_modules\/tar-stream\//];

describe('start-up path of the CLI bundle', () => {
  it('--help and --version load commander and the CLI entry only: no schemas, no YAML', () => {
    const sources = startupSources('src/cli/main.ts');
    expect(sources).toContain('src/cli/main.ts');
    expect(sources.some((s) => /node_modules\/commander\//.test(s))).toBe(true);
    expect(sources.filter((s) => s.includes('node_modules/') && !/node_modules\/commander\//.test(s))).toEqual([]);
  });

  it('mlx status loads neither the remote, git and run code nor the heavy libraries', () => {
    const sources = startupSources('src/cli/commands/status.ts');
    expect(sources).toContain('src/workspace/status.ts');
    expect(matching(sources, [...HEAVY_LIBRARIES, /^src\/(remote|git|repository|run)\//])).toEqual([]);
  });

  it('mlx status loads no YAML library: pointers and configs as mlx writes them are read by the strict reader', () => {
    const sources = startupSources('src/cli/commands/status.ts');
    expect(sources).toContain('src/formats/simple-yaml.ts');
    expect(matching(sources, [/node_modules\/yaml\//])).toEqual([]);
  });

  it('the yaml library is in no chunk but in its own CommonJS file beside them, which yaml-library.ts requires on first use', () => {
    const everything = Object.values(meta.outputs).flatMap((out) => Object.keys(out.inputs));
    expect(matching(everything, [/node_modules\/yaml\//])).toEqual([]);
    expect(cliBuildOptions.define.MLX_YAML_MODULE).toBe(JSON.stringify(`./${yamlBuildOptions.outfile.split('/').pop()}`));
    expect(yamlBuildOptions.outfile.startsWith(`${cliBuildOptions.outdir}/`)).toBe(true);
    const [file, out] = Object.entries(yamlMeta.outputs)[0]!;
    expect(file).toMatch(/\.cjs$/);
    expect(Object.keys(out.inputs).some((s) => /node_modules\/yaml\//.test(s))).toBe(true);
  });

  it("mlx status takes zod's schemas without its translations of error messages", () => {
    const sources = startupSources('src/cli/commands/status.ts');
    expect(sources.some((s) => /node_modules\/zod\//.test(s))).toBe(true);
    expect(matching(sources, [/node_modules\/zod\/v4\/locales\/(?!en\.js)/])).toEqual([]);
  });

  it("no command loads zod's classic API: every schema is written with zod/mini, whose unused parts drop out", () => {
    const everything = Object.values(meta.outputs).flatMap((out) => Object.entries(out.inputs).filter(([, use]) => use.bytesInOutput > 0).map(([source]) => source));
    expect(everything.some((s) => /node_modules\/zod\/v4\/mini\//.test(s))).toBe(true);
    expect(matching(everything, [/node_modules\/zod\/v4\/classic\//, /node_modules\/zod\/v4\/core\/to-json-schema/])).toEqual([]);
  });

  it('mlx push keeps the AWS SDK behind the dynamic import an S3 remote makes', () => {
    const push = startupSources('src/cli/commands/push.ts');
    expect(push).toContain('src/remote/push.ts');
    expect(matching(push, [/node_modules\/@aws-sdk\//])).toEqual([]);
  });
});
