import { exitCodeForSignal } from './exit-codes.js';

/**
 * The reason of the AbortSignal that runCli hands to commands when SIGINT or SIGTERM arrives.
 * Commands stop and clean up; the process then exits with `exitCode` (130 or 143).
 */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  /** Always 'EINTR'. */
  readonly code = 'EINTR';
  readonly exitCode: number;

  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.exitCode = exitCodeForSignal(signal);
  }

  /** The exit code for an aborted command: 128 + the signal, 130 if the reason is not ours. */
  static exitCodeOf(reason: unknown): number {
    return reason instanceof InterruptedError ? reason.exitCode : exitCodeForSignal('SIGINT');
  }
}
