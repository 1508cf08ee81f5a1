/**
 * vitest config for running the real-Xen tests from their TypeScript sources with vitest itself,
 * by hand inside the rig (for vitest's own reporters and features while debugging), e.g.
 *   test/xen/build-tests.sh && test/xen/run-in-xen.sh --domu 'sh test/xen/suite/domu-peer.sh' -- \
 *     node node_modules/vitest/vitest.mjs run --config test/xen/vitest.xen.config.ts smoke/
 * `pnpm test:xen` does not use it: it runs the compiled tests with suite/rig-runner.mjs, because
 * vitest's start-up and per-file transform cost minutes under QEMU's TCG.
 */
import { defineConfig } from 'vitest/config';
import rootConfig from '../../vitest.config.ts';

export default defineConfig({
  ...rootConfig,
  test: {
    ...rootConfig.test,
    include: ['test/xen/**/*.xen.test.ts'],
    exclude: ['**/node_modules/**', 'test/xen/.compiled/**'],
    maxWorkers: 1,
    fileParallelism: false,
    // Everything runs ~10x slower under QEMU's TCG.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
