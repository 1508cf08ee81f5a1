/**
 * Where the running Node's C headers are, for node-gyp's --nodedir: node-gyp cannot download them
 * on machines without internet access, and a distribution's /usr/include/node may belong to
 * another Node. Looks, in order, at:
 *   1. $XENIPC_NODEDIR, then npm's $npm_config_nodedir (taken as given);
 *   2. the prefix of this Node (nvm, Volta, the official tarball, Debian's /usr, the npm
 *      registry's node-linux-<arch> package): <prefix>/include/node;
 *   3. node-gyp's cache of downloaded headers for this version;
 *   4. /usr/include/node and /usr/local/include/node (a warning if their version differs: N-API is
 *      stable across versions, so they still build a working addon).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const NODEDIR_ENV = 'XENIPC_NODEDIR';

/** The version a headers directory (one holding include/node) belongs to, or undefined. */
export function headersVersion(nodedir) {
  try {
    const text = readFileSync(join(nodedir, 'include', 'node', 'node_version.h'), 'utf8');
    const part = (name) => text.match(new RegExp(`#define\\s+NODE_${name}_VERSION\\s+(\\d+)`))?.[1];
    const [major, minor, patch] = ['MAJOR', 'MINOR', 'PATCH'].map(part);
    return major === undefined ? undefined : `${major}.${minor}.${patch}`;
  } catch {
    return undefined;
  }
}

function hasHeaders(nodedir) {
  return existsSync(join(nodedir, 'include', 'node', 'node_api.h')) && existsSync(join(nodedir, 'include', 'node', 'common.gypi'));
}

function cacheDirs() {
  const version = process.versions.node;
  const home = homedir();
  return [
    process.env.npm_config_devdir && join(process.env.npm_config_devdir, version),
    process.env.XDG_CACHE_HOME && join(process.env.XDG_CACHE_HOME, 'node-gyp', version),
    join(home, '.cache', 'node-gyp', version),
    join(home, '.node-gyp', version),
  ].filter(Boolean);
}

/**
 * Returns { nodedir, warning? }; throws an Error whose message is one line naming what to install
 * when no headers are found.
 */
export function findNodeHeaders() {
  const explicit = process.env[NODEDIR_ENV] || process.env.npm_config_nodedir;
  if (explicit) {
    if (!hasHeaders(explicit)) throw new Error(`${explicit} (from $${process.env[NODEDIR_ENV] ? NODEDIR_ENV : 'npm_config_nodedir'}) has no include/node/node_api.h and common.gypi`);
    return { nodedir: explicit };
  }
  const version = process.versions.node;
  const prefix = dirname(dirname(process.execPath));
  for (const candidate of [prefix, ...cacheDirs()]) {
    if (hasHeaders(candidate) && headersVersion(candidate) === version) return { nodedir: candidate };
  }
  for (const candidate of ['/usr', '/usr/local']) {
    if (!hasHeaders(candidate)) continue;
    const found = headersVersion(candidate);
    if (found === version) return { nodedir: candidate };
    return { nodedir: candidate, warning: `using Node ${found ?? '(unknown version)'} headers from ${candidate}/include/node for Node ${version} (N-API keeps the addon compatible)` };
  }
  throw new Error(
    `no C headers for Node ${version} (looked in ${prefix}/include/node, node-gyp's cache, /usr/include/node): ` +
      `install them (Debian/Ubuntu: apt-get install libnode-dev; Node from nodejs.org, nvm or Volta has them) ` +
      `or set ${NODEDIR_ENV} to a directory holding include/node`,
  );
}
