import type { Readable, Writable } from 'node:stream';

/**
 * What a command may touch of the outside world. `runCli` passes the real process streams and
 * environment; tests may pass their own.
 */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop and clean up when it fires. */
  readonly signal: AbortSignal;
}

/** A subcommand: parses its own arguments and resolves to an exit code. */
export interface Command {
  readonly name: string;
  /** One line for the command list in `xenipc --help`. */
  readonly summary: string;
  /** Full `xenipc <name> --help` text. */
  readonly help: string;
  run(args: readonly string[], context: CliContext): Promise<number>;
}
