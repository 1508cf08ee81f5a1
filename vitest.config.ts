import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the "xenipc-source" export
// condition), so `vitest` sees edits without a rebuild. Child processes spawned by tests do the
// same through test/support/spawn-domain.ts (node --conditions=xenipc-source --import tsx).
export default defineConfig({
  resolve: { conditions: ['xenipc-source'] },
  ssr: { resolve: { conditions: ['xenipc-source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    // Real-Xen tests (*.xen.test.ts, all under test/xen/) run only in `pnpm test:xen`, inside the rig.
    // Neovim interop (test/neovim/) needs nvim installed: `pnpm test:neovim`, run by CI.
    exclude: ['**/node_modules/**', 'test/xen/**', '**/*.xen.test.ts', 'test/neovim/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
