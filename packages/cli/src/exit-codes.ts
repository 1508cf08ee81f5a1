/**
 * Exit codes of every xenipc command. Scripts branch on these, so they are part of the interface
 * (documented in the package README).
 */
export const ExitCode = {
  /** Done, nothing wrong. */
  ok: 0,
  /** The operation failed (connection refused, peer vanished mid-transfer, doctor found a problem). */
  failure: 1,
  /** The command line was wrong; nothing was attempted. */
  usage: 2,
  /** Interrupted by SIGINT/SIGTERM (the shell convention 128 + signal number, for SIGINT). */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
