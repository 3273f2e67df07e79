#!/usr/bin/env node
// Starts the compiled CLI. Signals exit through process.exit so locks are released on the way out.
import module from 'node:module';
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
// Node 22.1+ keeps V8's compiled code of the bundle on disk (NODE_DISABLE_COMPILE_CACHE=1 turns it off);
// Node 20 has no such cache and parses the chunks each time, so the status path is kept small instead.
module.enableCompileCache?.();
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
