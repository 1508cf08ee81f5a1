import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ADDON_PATH_ENV } from '@xenipc/core';
import { addonCandidatePaths } from '@xenipc/core/backend-kit';
import { runTs } from '../../../../test/support/spawn-domain.js';

describe('addon loader', () => {
  it('searches this package\'s prebuilds/<platform>-<arch>/ by default, never above the package', () => {
    const saved = process.env[ADDON_PATH_ENV];
    delete process.env[ADDON_PATH_ENV];
    try {
      const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
      expect(addonCandidatePaths()).toEqual([join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'xenipc.napi.node')]);
    } finally {
      if (saved !== undefined) process.env[ADDON_PATH_ENV] = saved;
    }
  });

  it('a missing addon is a XenError telling how to build it (XENIPC_ADDON overrides the search)', async () => {
    const { code, stdout } = await runTs(new URL('./fixtures/missing-addon-child.ts', import.meta.url), [], {
      env: { ...process.env, [ADDON_PATH_ENV]: '/nonexistent/xenipc.node' },
    });
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { isXenError: boolean; code: string; message: string };
    expect(result.isXenError).toBe(true);
    expect(result.code).toBe('ENOENT');
    expect(result.message).toContain('/nonexistent/xenipc.node');
    expect(result.message).toContain('npx xenipc-build-addon');
    expect(result.message).toContain('pnpm build:native');
  });
});
