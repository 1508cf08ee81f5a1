/**
 * The client domain: connects to each phase's channel of the server domain, measures, closes,
 * and prints the report on stdout (progress goes to stderr).
 */
import { DEFAULT_SPIN_MICROS } from '@xenipc/channel';
import { connectChannel } from '@xenipc/cli';
import { chooseBackend, openBackend } from '@xenipc/sim';
import { runChannelPhase } from './channel-phase.js';
import { backendRequest, phasePort, type PingPongOptions } from './ping-pong-options.js';
import { runRpcPhase } from './rpc-phase.js';
import { exitOnSignal } from './exit-on-signal.js';
import { formatReport, type PhaseResult, type RunReport } from './run-report.js';

export async function runClient(options: PingPongOptions): Promise<number> {
  const peer = options.peer as number;
  const choice = chooseBackend(backendRequest(options), process.env);
  const backend = await openBackend(choice);
  const stop = new AbortController();
  const removeSignalHandlers = exitOnSignal(backend, stop);
  try {
    const phases: PhaseResult[] = [];
    let ringSize = options.ringSize;
    const spin = options.spinMicros === undefined ? {} : { spinMicros: options.spinMicros };
    for (const phase of options.phases) {
      const endpoint = await connectChannel(
        backend,
        { peer, port: phasePort(options.port, phase), ...spin },
        stop.signal,
        options.connectTimeoutMs,
      );
      // The server chose the rings; report what we actually got.
      ringSize = endpoint.writeRingSize;
      try {
        phases.push(phase === 'channel' ? await runChannelPhase(endpoint, options, process.stderr) : await runRpcPhase(endpoint, options, process.stderr));
      } finally {
        await endpoint.close();
      }
    }
    const report: RunReport = {
      setup: {
        backend: choice.kind,
        serverDomid: peer,
        clientDomid: backend.domid,
        port: options.port,
        ringSize,
        size: options.size,
        count: options.count,
        warmup: options.warmup,
        spinMicros: options.spinMicros ?? DEFAULT_SPIN_MICROS,
        window: options.window,
      },
      phases,
    };
    process.stdout.write(formatReport(report, options.json));
    return 0;
  } finally {
    removeSignalHandlers();
    await backend.close();
  }
}
