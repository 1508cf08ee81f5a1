/** `pnpm test:neovim`: the rpc interop suite against a real Neovim (needs `nvim`; CI installs Debian's neovim). */
import { defineConfig } from 'vitest/config';
import rootConfig from '../../vitest.config.ts';

export default defineConfig({
  ...rootConfig,
  test: { ...rootConfig.test, include: ['test/neovim/**/*.test.ts'], exclude: ['**/node_modules/**'] },
});
