/**
 * Measures how long a receiver lets a flooding peer hold the event loop. A hostile client in
 * another process (ring-flooder.fixture.ts) keeps our read ring full of empty frames; the
 * receiver under test runs in this process on the simulated host, and
 * perf_hooks.monitorEventLoopDelay samples the loop (every 1 ms) while the flood runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { XenBackend } from '@xenipc/core';
import { joinSimulatedHost, type SimulatedHost, startSimulatedHost } from '@xenipc/sim';
import { VchanServer, type VchanEndpoint } from '@xenipc/channel';
import { FixtureProcess } from '../../../test/support/fixture-process.js';

export interface FloodHost {
  backend: XenBackend;
  flooder: FixtureProcess;
  flooderDomid: number;
  close(): Promise<void>;
}

export async function startFloodHost(): Promise<FloodHost> {
  const dir = mkdtempSync(join(tmpdir(), 'xenipc-flood-'));
  const host: SimulatedHost = await startSimulatedHost({ dir });
  const backend = await joinSimulatedHost({ dir, autoStart: false });
  const flooder = new FixtureProcess(new URL('./ring-flooder.fixture.ts', import.meta.url), [dir]);
  const { domid } = await flooder.do('join');
  return {
    backend,
    flooder,
    flooderDomid: domid as number,
    async close() {
      await flooder.close();
      await backend.close();
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface FloodResult {
  /** Worst event-loop delay seen in each measuring window while the flood ran (ms). */
  windowLagMs: number[];
  /** Frames (or, for byte streams, bytes / 4) the receiver took while it ran. */
  received: number;
  /** Times the flooder refilled the ring. */
  refills: number;
  ringSize: number;
}

let nextPort = 1;

const POLL_MS = 5;

/**
 * Resolves once `done()` holds, polled from a timer (which fires only when the loop turns), with
 * the longest gap between two polls beyond the period: a lag that monitorEventLoopDelay would
 * miss when one block spans the whole window (it then has no sample to report).
 */
function when(done: () => boolean): Promise<number> {
  return new Promise<number>((resolve) => {
    let last = performance.now();
    let worst = 0;
    const check = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last - POLL_MS);
      last = now;
      if (done()) {
        clearInterval(check);
        resolve(worst);
      }
    }, POLL_MS);
  });
}

/**
 * Open a channel to the flooder with a `ringSize` read ring, attach the receiver (`receive`
 * returns a counter of what it took, and a stop function), and measure the event-loop delay in
 * `windows` consecutive windows, each lasting until the receiver took `ringsPerWindow` rings'
 * worth of empty frames and at least `windowMs` passed.
 *
 * Several windows, because this machine is shared: a window can catch the OS preempting us
 * (tens of ms under load) however well the receiver behaves, while a receiver that starves the
 * loop does so in every window (the unfair drain this guards against held it 0.4-15 s).
 */
export async function measureFlood(
  host: FloodHost,
  ringSize: number,
  receive: (endpoint: VchanEndpoint) => { count(): number; stop(): Promise<void> },
  { windows = 3, ringsPerWindow = 2, windowMs = 150 } = {},
): Promise<FloodResult> {
  const port = `flood-${nextPort++}`;
  const listening = VchanServer.listen(host.backend, { peer: host.flooderDomid, port, readSize: ringSize, writeSize: 1024 });
  const [server, flood] = await Promise.all([listening, host.flooder.do('flood', { peer: host.backend.domid, port })]);
  const receiver = receive(server);
  const windowLagMs: number[] = [];
  for (let w = 0; w < windows; w++) {
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const started = performance.now();
    const wanted = receiver.count() + ringsPerWindow * (ringSize / 4);
    const worstGap = await when(() => receiver.count() >= wanted && performance.now() - started >= windowMs);
    histogram.disable();
    windowLagMs.push(Math.max(histogram.max / 1e6, worstGap));
  }
  const received = receiver.count();
  const { refills } = await host.flooder.do('stop');
  await receiver.stop();
  await server.close();
  return { windowLagMs, received, refills: refills as number, ringSize: flood['ringSize'] as number };
}
