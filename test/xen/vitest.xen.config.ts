/**
 * vitest config for the tests that need real Xen (`pnpm test:xen` runs them inside the rig's
 * dom0): every `*.xen.test.ts` the root config would find, plus everything under test/xen/ (which
 * the root config excludes). Everything else (resolve conditions, pool) comes from the root config,
 * so packages still resolve from their sources.
 */
import { defineConfig } from 'vitest/config';
import rootConfig from '../../vitest.config.ts';

const rootTest = rootConfig.test ?? {};
const xenTestFiles = (rootTest.include ?? []).map((glob) => glob.replace(/\*\.test\.ts$/, '*.xen.test.ts'));

export default defineConfig({
  ...rootConfig,
  test: {
    ...rootTest,
    include: [...xenTestFiles, 'test/xen/**/*.test.ts'],
    exclude: (rootTest.exclude ?? []).filter((glob) => glob !== 'test/xen/**' && glob !== '**/*.xen.test.ts'),
    // Everything runs ~10x slower under QEMU's TCG.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
