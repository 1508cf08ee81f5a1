import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { XenError } from '@xenipc/core';
import { spawnTs } from './support/spawn-domain.js';

describe('workspace wiring', () => {
  it('XenError carries the errno number of its code', () => {
    const e = new XenError({ code: 'ENOENT', syscall: 'open', message: 'x' });
    expect(e.errno).toBe(2);
  });
  it('a child process resolves workspace packages from source', async () => {
    const child = spawnTs(new URL('./support/print-errno.fixture.ts', import.meta.url));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(out.trim()).toBe('11');
  });
});
