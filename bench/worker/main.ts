/**
 * A benchmark worker process. Usage: node ... bench/worker/main.ts a|b [--with-peer]
 *
 * Worker A is spawned by the orchestrator; with --with-peer it spawns worker B as its own child
 * over an IPC channel with advanced serialization (the child-ipc baseline's channel) and relays
 * commands addressed to B and B's replies. Each command runs one step of a workload (open,
 * arm a receiver, send a stream, ...) and replies with its result.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isCommand, isReply, type Command, type Reply, type Side } from '../control/protocol.js';
import { runCommand } from './commands.js';
import type { WorkerState } from './worker-state.js';

const side: Side = process.argv[2] === 'b' ? 'b' : 'a';
const state: WorkerState = {
  side,
  child: undefined,
  connection: undefined,
  pendingConnection: undefined,
  pendingReceive: undefined,
  backend: undefined,
};

function toParent(reply: Reply): void {
  process.send?.(reply);
}

if (side === 'a' && process.argv.includes('--with-peer')) {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'b'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  child.on('message', (message: unknown) => {
    if (isReply(message)) toParent(message);
  });
  child.on('exit', (code, signal) => {
    if (code !== 0) {
      console.error(`bench worker B exited with ${code ?? signal}`);
      process.exit(1);
    }
  });
  state.child = child;
}

process.on('message', (message: unknown) => {
  if (!isCommand(message)) return; // data of the child-ipc baseline
  const command: Command = message;
  if (command.side !== side) {
    state.child?.send(command);
    return;
  }
  if (command.op === 'exit') {
    state.child?.send({ ...command, side: 'b' });
    toParent({ kind: 'reply', id: command.id, ok: true, value: null });
    setTimeout(() => process.exit(0), 50);
    return;
  }
  runCommand(state, command.op, command.args).then(
    (value) => toParent({ kind: 'reply', id: command.id, ok: true, value }),
    (error: unknown) =>
      toParent({ kind: 'reply', id: command.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});

// Leave when the orchestrator (or worker A) goes away.
process.on('disconnect', () => process.exit(0));
