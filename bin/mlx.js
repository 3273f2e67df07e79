#!/usr/bin/env node
// Starts the compiled CLI. Signals exit through process.exit so locks are released on the way out.
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
