/**
 * Command lines for our own programs (the ping-pong example, the `xenipc` CLI, the RPC peer
 * program) in either domain of the rig: in dom0 by the test itself (AgentProcess), in the domU
 * through the peer agent (startProcess). Both run in the project dir, which is at the same path
 * in both domains, so paths are relative to it. Compiled (the rig), they run as JavaScript with
 * the packages' dist/; from source, through tsx (program-location.ts).
 */
import { nodeArgsFor, runningCompiled } from './program-location.js';
import { TS_NODE_ARGS } from '../../support/spawn-domain.js';

export interface CommandLine {
  command: string;
  args: string[];
}

/** `node` running a program of this repo given by its TypeScript source (see nodeArgsFor). */
export function tsProgram(file: string, args: readonly string[]): CommandLine {
  return { command: 'node', args: [...nodeArgsFor(file), ...args] };
}

export function pingPong(args: readonly string[]): CommandLine {
  return runningCompiled
    ? { command: 'node', args: ['examples/ping-pong/dist/main.js', ...args] }
    : tsProgram('examples/ping-pong/src/main.ts', args);
}

export function rpcPeerProgram(args: readonly string[]): CommandLine {
  return tsProgram('test/xen/peer/rpc-peer-program.ts', args);
}

/** The `xenipc` command (its launcher loads dist/ unless given the source condition). */
export function xenipc(args: readonly string[]): CommandLine {
  return { command: 'node', args: [...(runningCompiled ? [] : TS_NODE_ARGS), 'packages/cli/bin/xenipc.js', ...args] };
}

/** The `xenipc` command as one shell word list, for `sh -c` lines with redirections. */
export const XENIPC_SHELL = xenipc([]).args.reduce((line, word) => `${line} ${word}`, 'node');

/** A command line run by `sh -c` (for pipes and redirections). */
export function shell(script: string): CommandLine {
  return { command: 'sh', args: ['-c', script] };
}
