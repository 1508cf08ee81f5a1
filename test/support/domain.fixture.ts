/**
 * One domain in its own OS process (so a test can SIGKILL it), driven over the IPC channel by
 * DomainProcess: each message {id, cmd, ...} gets a reply {id, ...result} or {id, error: code}.
 * `join` opens the backend named by the arguments: `sim <dir>` joins a simulated host, `xen` opens
 * the real devices.
 */
import { openXenBackend, type XenBackend } from '@xenipc/core';
import { joinSimulatedHost } from '@xenipc/sim';
import { DomainDriver, type Command } from './domain-driver.js';

const [kind, dir = ''] = process.argv.slice(2);
let driver: DomainDriver | undefined;

function reply(id: number, result: Record<string, unknown>, then: () => void = () => undefined): void {
  process.send?.({ id, ...result }, undefined, {}, then);
}

async function join(autoStart: boolean): Promise<XenBackend> {
  if (kind === 'xen') return openXenBackend();
  return joinSimulatedHost({ dir, autoStart });
}

async function run(message: Command): Promise<Record<string, unknown>> {
  if (message.cmd === 'join') {
    driver = new DomainDriver(await join(message['autoStart'] === true));
    return { domid: driver.backend.domid };
  }
  if (driver === undefined) throw new Error(`${message.cmd} before join`);
  return driver.run(message);
}

process.on('message', (message: Command & { id: number }) => {
  if (message.cmd === 'block') {
    // Block this process's event loop so the test can notify it several times before delivery.
    reply(message.id, {}, () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, message['ms'] as number));
    return;
  }
  run(message).then(
    (result) => reply(message.id, result, message.cmd === 'close' ? () => process.exit(0) : undefined),
    (err: unknown) => reply(message.id, { error: (err as { code?: string }).code ?? String(err), message: String(err) }),
  );
});
