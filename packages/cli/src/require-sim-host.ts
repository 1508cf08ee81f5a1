/**
 * A simulated host must already run in the directory a command names: joining would otherwise
 * create a mistyped --sim-dir and then fail with a socket path the user never typed.
 */
import { statSync } from 'node:fs';
import { hostSocketPath } from '@xenipc/sim';
import type { BackendChoice } from '@xenipc/sim';
import { CommandError } from './command-error.js';

export function requireSimulatedHost(choice: BackendChoice): void {
  if (choice.kind !== 'sim' || choice.simDir === undefined) return;
  const dir = choice.simDir;
  const socket = statSync(hostSocketPath(dir), { throwIfNoEntry: false });
  if (socket?.isSocket()) return;
  const dirExists = statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
  throw new CommandError(
    'ENOENT',
    `no simulated host at ${dir}${dirExists ? '' : ' (no such directory)'}: start one with \`xenipc sim --dir ${dir}\`, or check --sim-dir / XENIPC_SIM_DIR`,
  );
}
