/**
 * A --sim-dir (or XENIPC_SIM_DIR) that names no running simulated host is an error in one line,
 * and nothing is created there: a typo must not leave directories behind.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runXenipc } from './support/run-xenipc.js';

describe('a mistyped simulated host directory', () => {
  let parent: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'xenipc-typo-'));
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it.each([
    ['listen', ['listen', '2', 'p', '--domid', '1', '-d']],
    ['connect', ['connect', '1', 'p', '--domid', '2']],
    ['proxy', ['proxy', 'listen', '2', 'p', '--domid', '1', '--to', 'tcp:9']],
  ])('%s: exit 1 "no simulated host at DIR", and DIR is not created', async (_name, args) => {
    const typo = join(parent, 'xenipc-sim-tpyo', 'deeper');
    const result = await runXenipc([...args, '--sim-dir', typo]);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `xenipc ${args[0]}: no simulated host at ${typo} (no such directory): start one with \`xenipc sim --dir ${typo}\`, or check --sim-dir / XENIPC_SIM_DIR (ENOENT)`,
    ]);
    expect(existsSync(join(parent, 'xenipc-sim-tpyo'))).toBe(false);
  });

  it('XENIPC_SIM_DIR pointing at an existing directory without a host: the same error, nothing added', async () => {
    const empty = await mkdtemp(join(parent, 'empty-'));
    const result = await runXenipc(['connect', '1', 'p', '--domid', '2'], { env: { ...process.env, XENIPC_SIM_DIR: empty } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no simulated host at ${empty}: start one with`);
    expect(await readdir(empty)).toEqual([]);
  });
});
