/**
 * A failure the command itself detected (no simulated host there, a file in the way, data not
 * delivered). Printed as one line; exit code 1. `code` is errno-like, for scripts and tests.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';

  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
