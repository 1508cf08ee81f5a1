import { describe, expect, it } from 'vitest';
import { ADDON_PATH_ENV, loadCpuYield } from '@xenipc/core';
import { runTs } from '../../../../test/support/spawn-domain.js';

describe('loadCpuYield', () => {
  it('is the built addon\'s sched_yield(): one function, callable, returning nothing', () => {
    const yieldCpu = loadCpuYield();
    expect(typeof yieldCpu).toBe('function');
    expect(loadCpuYield()).toBe(yieldCpu);
    expect((yieldCpu as () => unknown)()).toBeUndefined();
  });

  it('is undefined, not an error, where the addon cannot be loaded (spins then just spin)', async () => {
    const { code, stdout } = await runTs(new URL('./fixtures/cpu-yield-child.ts', import.meta.url), [], {
      env: { ...process.env, [ADDON_PATH_ENV]: '/nonexistent/xenipc.node' },
    });
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('undefined');
  });
});
