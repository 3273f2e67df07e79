import type { BuildOptions } from 'esbuild';

export const cliBuildOptions: BuildOptions;
