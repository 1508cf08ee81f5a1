import { constants } from 'node:os';

/**
 * Exit codes of every xenipc command. Scripts branch on these, so they are part of the interface
 * (documented in the package README).
 */
export const ExitCode = {
  /** Done, nothing wrong. */
  ok: 0,
  /** The operation failed (connection refused, data not delivered, peer vanished, doctor found a problem). */
  failure: 1,
  /** The command line was wrong; nothing was attempted. */
  usage: 2,
  /** Interrupted by SIGINT (Ctrl-C): 128 + 2, the shell convention. */
  interrupted: 128 + constants.signals.SIGINT,
  /** Stopped by SIGTERM: 128 + 15. */
  terminated: 128 + constants.signals.SIGTERM,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** 128 + the signal's number, as a shell reports a process killed by it. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
