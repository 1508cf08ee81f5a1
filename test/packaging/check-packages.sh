#!/usr/bin/env bash
# Packaging check (issue: installable by users). Run by .ci/run after `pnpm test` (which builds):
# 1. `pnpm pack` every package, `npm install` the tarballs into an empty app outside the repo;
#    the app opens a channel pair on the simulated host, sends 100 messages, makes 100 RPC calls
#    and must exit by itself within 1 s of closing everything;
# 2. the addon builds from the package's own sources with a Node installed under another prefix
#    (the npm registry's node-linux-<arch> binary package), and the app runs on that Node.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
work=$(mktemp -d /tmp/xenipc-packaging-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tarballs" "$work/app"

for pkg in core sim channel rpc cli; do
  (cd "packages/$pkg" && pnpm pack --pack-destination "$work/tarballs" > /dev/null)
done
echo "packed: $(cd "$work/tarballs" && ls | tr '\n' ' ')"
# (a listing in a variable: `tar | grep -q` under pipefail fails when grep stops reading early)
core_files=$(tar -tzf "$work"/tarballs/xenipc-core-*.tgz)
grep -q 'package/prebuilds/linux-.*/xenipc.napi.node' <<< "$core_files" || { echo "core tarball has no prebuilt addon"; exit 1; }
grep -q 'package/native/gntdev.cc' <<< "$core_files" || { echo "core tarball has no native sources"; exit 1; }

cd "$work/app"
deps=$(for t in "$work"/tarballs/*.tgz; do name=$(tar -xzOf "$t" package/package.json | node -p 'JSON.parse(require("fs").readFileSync(0)).name'); printf '"%s": "file:%s",' "$name" "$t"; done)
printf '{ "name": "xenipc-packaging-check", "private": true, "type": "module", "dependencies": { %s } }\n' "${deps%,}" > package.json
cp "$repo/test/packaging/app.mjs" .
npm install --no-audit --no-fund --loglevel=error > npm-install.log 2>&1 || { cat npm-install.log; exit 1; }

check_app() { # $1: node binary
  local out
  out=$(timeout 60 "$1" app.mjs) || { echo "app failed or did not exit within 60 s (exit $?)"; exit 1; }
  echo "app on $("$1" --version): $out"
  node -e '
    const r = JSON.parse(process.argv[1]);
    const ok = r.messages === 100 && r.messagesOk && r.calls === 100 && r.sum === 5050 && r.exitMsAfterClose < 1000;
    if (!ok) { console.error("packaging check failed:", r); process.exit(1); }' "$out"
}
check_app node

# Node under another prefix: build the addon from the installed package's sources with its headers.
arch=$(node -p process.arch)
major=$(node -p 'process.versions.node.split(".")[0]')
mkdir -p "$work/node-prefix" && cd "$work/node-prefix" && echo '{}' > package.json
npm install --no-audit --no-fund --loglevel=error "node-linux-$arch@$major" > npm-install.log 2>&1 || { cat npm-install.log; exit 1; }
other_node="$work/node-prefix/node_modules/node-linux-$arch/bin/node"
cd "$work/app"
rm -f node_modules/@xenipc/core/prebuilds/*/xenipc.napi.node
PATH="$(dirname "$other_node"):$PATH" "$other_node" node_modules/@xenipc/core/scripts/build-addon.mjs --force
check_app "$other_node"
echo "packaging check passed"
