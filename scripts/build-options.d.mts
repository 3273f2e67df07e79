import type { BuildOptions } from 'esbuild';

export const cliBuildOptions: BuildOptions & { outdir: string; define: Record<string, string> };
export const yamlBuildOptions: BuildOptions & { outfile: string };
