/**
 * test/xen/can-run.sh decides whether CI runs the real-Xen suite at all. On a machine without the
 * rig's cache it asks apt whether the guest packages have a candidate; that question once went
 * through `apt-cache policy X | grep -q` under `set -o pipefail`, which fails whenever grep exits
 * at the first match while apt-cache is still writing (SIGPIPE): the script said "no" on every
 * fresh machine. These tests run the script with an empty rig directory, against a stand-in
 * apt-cache that writes far more than a pipe holds after the matching line (so the old pipeline
 * fails every time), and against this machine's real apt where it has the packages.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const canRun = fileURLToPath(new URL('../xen/can-run.sh', import.meta.url));

/** can-run.sh's own preconditions that no stand-in can provide: x86_64, >= 2 GB available. */
function machineQualifies(): boolean {
  const avail = /^MemAvailable:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return arch() === 'x64' && avail !== null && Number(avail[1]) >= 2_000_000;
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

interface CanRunResult { status: number | null; stderr: string }

function runCanRun(env: NodeJS.ProcessEnv): CanRunResult {
  const r = spawnSync('bash', [canRun], { env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
}

describe.skipIf(!machineQualifies())('can-run.sh on a machine without the rig cache', () => {
  let dir: string;
  let emptyRigDir: string;
  let fakeBin: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xenipc-can-run-'));
    emptyRigDir = join(dir, 'rig');
    mkdirSync(emptyRigDir);
    fakeBin = join(dir, 'bin');
    mkdirSync(fakeBin);
    // apt-cache stand-in: the candidate line first, then ~1 MB more (a pipe holds 64 KiB).
    // FAKE_CANDIDATE=none: no candidate. qemu is present, apt-get update does nothing.
    writeFileSync(join(fakeBin, 'apt-cache'), [
      '#!/bin/sh',
      'echo "$2:"',
      'echo "  Installed: (none)"',
      'if [ "$FAKE_CANDIDATE" = none ]; then echo "  Candidate: (none)"; else echo "  Candidate: 4.17.0-1"; fi',
      'i=0; while [ $i -lt 20000 ]; do echo "     500 http://deb.debian.org/debian bookworm/main amd64 Packages $i"; i=$((i+1)); done',
    ].join('\n'));
    writeFileSync(join(fakeBin, 'apt-get'), '#!/bin/sh\nexit 0\n');
    writeFileSync(join(fakeBin, 'qemu-system-x86_64'), '#!/bin/sh\nexit 0\n');
    for (const f of ['apt-cache', 'apt-get', 'qemu-system-x86_64']) chmodSync(join(fakeBin, f), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fakeEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
    ({ ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, XENIPC_RIG_DIR: emptyRigDir, ...extra });

  it('says yes when apt has a candidate, however much apt-cache writes after it', () => {
    // Several runs: the SIGPIPE race of the old pipeline lost every time at this output size.
    for (let i = 0; i < 3; i++) {
      const r = runCanRun(fakeEnv());
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('says no, naming the package, when apt has no candidate', () => {
    const r = runCanRun(fakeEnv({ FAKE_CANDIDATE: 'none' }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('can-run: no: apt has no xen-hypervisor-4.17-amd64');
  });

  // This machine's real apt (Debian bookworm sources), where it offers the guest packages.
  const aptOffersXen = hasCommand('apt-cache') &&
    /Candidate: [0-9]/.test(spawnSync('apt-cache', ['policy', 'xen-hypervisor-4.17-amd64'], { encoding: 'utf8' }).stdout ?? '');
  it.skipIf(!aptOffersXen)('says yes with the real apt of this machine and an empty rig directory', () => {
    const r = runCanRun({ ...process.env, XENIPC_RIG_DIR: emptyRigDir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
