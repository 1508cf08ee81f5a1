/**
 * Command lines for our own programs (the ping-pong example, the `xenipc` CLI, the RPC peer
 * program) run from source in either domain of the rig: in dom0 by the test itself
 * (AgentProcess), in the domU through the peer agent (startProcess). Both run in the project
 * dir, which is at the same path in both domains, so paths are relative to it.
 */
import { TS_NODE_ARGS } from '../../support/spawn-domain.js';

export interface CommandLine {
  command: string;
  args: string[];
}

/** `node` running a TypeScript file from source (workspace packages resolved to their src/). */
export function tsProgram(file: string, args: readonly string[]): CommandLine {
  return { command: 'node', args: [...TS_NODE_ARGS, file, ...args] };
}

export function pingPong(args: readonly string[]): CommandLine {
  return tsProgram('examples/ping-pong/src/main.ts', args);
}

export function rpcPeerProgram(args: readonly string[]): CommandLine {
  return tsProgram('test/xen/peer/rpc-peer-program.ts', args);
}

/** The `xenipc` command as one shell word list, for `sh -c` lines with redirections. */
export const XENIPC_SHELL = `node ${TS_NODE_ARGS.join(' ')} packages/cli/bin/xenipc.js`;

/** A command line run by `sh -c` (for pipes and redirections). */
export function shell(script: string): CommandLine {
  return { command: 'sh', args: ['-c', script] };
}
