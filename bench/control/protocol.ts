/**
 * Control messages between the orchestrator (bench/main.ts) and the worker processes. Workers
 * come in pairs: the orchestrator spawns worker A; A spawns worker B as its own child (with a
 * child_process IPC channel, which the child-ipc baseline also uses for data) and relays B's
 * commands and replies. Control traffic never overlaps a measurement.
 */

export type Side = 'a' | 'b';

export interface Command {
  kind: 'command';
  id: number;
  side: Side;
  op: string;
  args: unknown;
}

export type Reply =
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string };

export function isCommand(message: unknown): message is Command {
  return typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === 'command';
}

export function isReply(message: unknown): message is Reply {
  return typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === 'reply';
}
