/** A mistake on the command line. Reported in one line with exit code 2; nothing was attempted. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** Always 'EUSAGE'. */
  readonly code = 'EUSAGE';
}
