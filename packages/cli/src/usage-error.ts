/** A mistake on the command line. Reported with the command's usage hint and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
