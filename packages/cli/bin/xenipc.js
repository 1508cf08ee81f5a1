#!/usr/bin/env node
// Launcher for the `xenipc` command. Resolves the package through its own exports map, so
// `node --conditions=xenipc-source --import tsx bin/xenipc.js` runs the TypeScript sources and a
// plain `node bin/xenipc.js` runs the build in dist/.
//
// In a checkout that was installed but not built yet (no dist/), it runs the sources instead,
// through tsx (a dev dependency of the repository), and if that is not possible either, it says
// in one line what to do instead of printing a module-resolution stack trace.

/** True for "a dist/ file of a workspace package is missing" (nothing else is caught). */
function isMissingBuild(err) {
  return err?.code === 'ERR_MODULE_NOT_FOUND' && /[\\/]dist[\\/]/.test(String(err.message));
}

/** Resolve workspace packages to their sources (the "xenipc-source" export condition) and load .ts through tsx. */
async function runFromSources() {
  const { register } = await import('node:module');
  if (typeof register !== 'function') return undefined; // Node < 20.6
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    return undefined;
  }
  const addSourceCondition = `export async function resolve(specifier, context, next) {
    return next(specifier, { ...context, conditions: [...context.conditions, 'xenipc-source'] });
  }`;
  register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
  tsx.register();
  return import('@xenipc/cli');
}

let cli;
try {
  cli = await import('@xenipc/cli');
} catch (err) {
  if (!isMissingBuild(err)) throw err;
  cli = await runFromSources().catch(() => undefined);
  if (cli === undefined) {
    process.stderr.write('xenipc: this checkout is not built (no dist/): run `pnpm build` in the repository, then run xenipc again\n');
    process.exit(1);
  }
}
const code = await cli.runCli(process.argv.slice(2));
// Exit explicitly: a doctor probe of a silent xenbus device leaves an uncancellable read behind.
// process.stdout/stderr writes are synchronous for files, pipes and terminals on Linux.
process.exit(code);
