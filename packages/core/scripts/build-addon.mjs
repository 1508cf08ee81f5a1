#!/usr/bin/env node
/**
 * Builds the xenipc native addon with node-gyp and installs it where @xenipc/core loads it from:
 * prebuilds/<platform>-<arch>/xenipc.napi.node inside this package (the prebuildify layout; N-API,
 * so one binary serves every Node >= 20 on that platform).
 *
 *   node scripts/build-addon.mjs [--source DIR] [--force]
 *
 * --source  the directory holding binding.gyp and native/ (default: this package; the monorepo
 *           passes its root, where the sources live)
 * --force   rebuild even if the addon is newer than every source file
 *
 * Finds the running Node's headers itself (node-headers.mjs) and only runs `node-gyp configure`
 * when they changed; an unchanged tree builds nothing.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findNodeHeaders } from './node-headers.mjs';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PREBUILD_PATH = join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'xenipc.napi.node');

function fail(message) {
  process.stderr.write(`xenipc addon: ${message}\n`);
  process.exit(1);
}

function newestSourceTime(source) {
  let newest = statSync(join(source, 'binding.gyp')).mtimeMs;
  for (const name of readdirSync(join(source, 'native'))) newest = Math.max(newest, statSync(join(source, 'native', name)).mtimeMs);
  return newest;
}

function nodeGypCommand(source) {
  for (const base of [join(source, 'package.json'), fileURLToPath(import.meta.url)]) {
    try {
      return [process.execPath, createRequire(base).resolve('node-gyp/bin/node-gyp.js')];
    } catch {
      // not installed there
    }
  }
  const fromNpm = process.env.npm_config_node_gyp; // npm's own copy, set for lifecycle scripts
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const npmCopy = npmBundledNodeGyp();
  if (npmCopy !== undefined) return [process.execPath, npmCopy];
  fail('node-gyp not found: install it (npm install -g node-gyp@12) and run this again');
}

/** The node-gyp that npm bundles, next to the npm found on PATH. */
function npmBundledNodeGyp() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const npm = join(dir, 'npm');
    if (!existsSync(npm)) continue;
    const candidate = join(dirname(realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function run(command, args, cwd) {
  const result = spawnSync(command[0], [...command.slice(1), ...args], { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) fail(`\`node-gyp ${args.join(' ')}\` failed in ${cwd} (exit ${result.status ?? result.signal}): see the compiler output above`);
}

export function buildAddon({ source = PACKAGE_ROOT, force = false } = {}) {
  if (!existsSync(join(source, 'binding.gyp'))) fail(`no binding.gyp in ${source}`);
  const product = join(source, 'build', 'Release', 'xenipc.node');
  const stamp = join(source, 'build', 'xenipc-nodedir');
  let headers;
  try {
    headers = findNodeHeaders();
  } catch (err) {
    fail(err.message);
  }
  if (headers.warning) process.stderr.write(`xenipc addon: ${headers.warning}\n`);
  const configured = existsSync(stamp) && readFileSync(stamp, 'utf8') === headers.nodedir;
  const upToDate = configured && existsSync(product) && statSync(product).mtimeMs > newestSourceTime(source);
  if (force || !upToDate) {
    const nodeGyp = nodeGypCommand(source);
    if (force || !configured) {
      run(nodeGyp, ['configure', '--loglevel=warn', `--nodedir=${headers.nodedir}`], source);
      writeFileSync(stamp, headers.nodedir);
    }
    run(nodeGyp, ['build', '--loglevel=warn', `--jobs=${Math.min(availableParallelism(), 4)}`], source);
  }
  const same = existsSync(PREBUILD_PATH) && statSync(PREBUILD_PATH).size === statSync(product).size && statSync(PREBUILD_PATH).mtimeMs >= statSync(product).mtimeMs;
  if (!same) {
    mkdirSync(dirname(PREBUILD_PATH), { recursive: true });
    copyFileSync(product, PREBUILD_PATH);
  }
  return { product: PREBUILD_PATH, built: force || !upToDate, nodedir: headers.nodedir };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { source: { type: 'string' }, force: { type: 'boolean', default: false } } });
  const { product, built, nodedir } = buildAddon({ source: values.source ? resolve(values.source) : PACKAGE_ROOT, force: values.force });
  process.stderr.write(`xenipc addon: ${built ? `built with the headers in ${nodedir}/include/node` : "up to date"}: ${product}\n`);
}
