#!/usr/bin/env node
// Launcher for the `xenipc` command. Resolves the package through its own exports map, so
// `node --conditions=xenipc-source --import tsx bin/xenipc.js` runs the TypeScript sources and a
// plain `node bin/xenipc.js` runs the build in dist/.
const { runCli } = await import('@xenipc/cli');
const code = await runCli(process.argv.slice(2));
// Exit explicitly: a doctor probe of a silent xenbus device leaves an uncancellable read behind.
// process.stdout/stderr writes are synchronous for files, pipes and terminals on Linux.
process.exit(code);
