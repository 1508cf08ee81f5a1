/**
 * `pnpm bench`: xenipc (channel and RPC on the simulated Xen host) against what users would
 * otherwise pick -- a Unix domain socket, the child_process IPC channel, msgpack-rpc over a Unix
 * socket -- and a memcpy ceiling, between two separate worker processes, interleaved.
 * Flags: see options.ts and bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { buildCacheLineProbe, NEAR_ROUND_TRIP_NS } from './control/cache-line-round-trip.js';
import { pinningSupport } from './control/cpu-placement.js';
import { WorkerPair } from './control/worker-pair.js';
import { parseOptions } from './options.js';
import { machineInfo } from './report/machine-info.js';
import { machineBusyPercent, machineBusySeconds, processCpuSeconds, reapedChildrenCpuSeconds } from './report/machine-load.js';
import { renderMarkdown } from './report/markdown.js';
import { checkVcpuSpeeds, describeVcpuChecks, SLOW_VCPU_SPREAD, vcpuSpread } from './report/vcpu-speed.js';
import { renderThroughputSvg } from './report/svg-chart.js';
import { buildTables, renderConsole } from './report/tables.js';
import { evaluateTargets } from './report/targets.js';
import type { BenchReport } from './results-model.js';
import { buildCRing } from './transports/c-ring.js';
import { usePrivateAddonCopy } from './transports/private-addon-copy.js';
import { startSimulatedHostForBench, type BenchHost } from './transports/simulated-host.js';
import type { BenchContext } from './workloads/bench-context.js';
import { runIdle, runPingPongs, runRpc, runStreams } from './workloads/run-all.js';
import { BASELINE_NOTES } from './baseline-notes.js';

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const started = performance.now();
  const loadAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const busyBefore = await machineBusyPercent(1000);
  if (busyBefore > 20) {
    process.stderr.write(`warning: the machine was ${busyBefore} % busy before the start (other processes); results will be disturbed\n`);
  }
  const vcpuAtStart = await checkVcpuSpeeds('start');
  const nodeArgs = options.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`];
  process.stderr.write(`xenipc bench (${options.mode}): ${options.runs} interleaved runs, workloads ${[...options.workloads].join(',')}\n`);

  // To tell other processes' load apart from ours: machine-wide busy time over the run, minus ours.
  const machineBusyAtStart = machineBusySeconds();
  // The orchestrator's own CPU and its finished helpers' (the C ring's processes, the vCPU checks).
  const orchestratorCpu = (): number => processCpuSeconds(process.pid) + reapedChildrenCpuSeconds(process.pid);
  const orchestratorCpuAtStart = orchestratorCpu();
  const wallAtStart = performance.now();
  let otherLoadPercent = Number.NaN;
  const simDir = mkdtempSync(join(os.tmpdir(), 'xenipc-bench-sim-'));
  let host: BenchHost | undefined;
  let connectionCount = 0;
  const context: BenchContext = {
    options,
    pairs: {
      xenipc: undefined,
      unixSocket: await WorkerPair.spawn('unix-socket', true, nodeArgs),
      childIpc: await WorkerPair.spawn('child-ipc', true, nodeArgs),
      memcpy: await WorkerPair.spawn('memcpy', false, nodeArgs),
    },
    domids: undefined,
    xenipcUnavailable: undefined,
    nextName: () => `${process.pid}-${++connectionCount}`,
    cRing: buildCRing(simDir),
    cacheLineProbe: buildCacheLineProbe(simDir, await pinningSupport()),
    notes: [],
  };
  if ('unavailable' in context.cacheLineProbe) {
    context.notes.push(`Where the host ran the two vCPUs was not measured: ${context.cacheLineProbe.unavailable}.`);
  }
  if ('unavailable' in context.cRing) {
    context.notes.push(`C ring baseline not measured: ${context.cRing.unavailable}.`);
    process.stderr.write(`${context.cRing.unavailable}\n`);
  }
  try {
    await usePrivateAddonCopy(simDir);
    host = await startSimulatedHostForBench(simDir);
    const pair = await WorkerPair.spawn('xenipc', true, nodeArgs);
    context.pairs.xenipc = pair;
    const [a, b] = await Promise.all([pair.call<number>('a', 'joinSim', { dir: simDir }), pair.call<number>('b', 'joinSim', { dir: simDir })]);
    context.domids = { a, b };
  } catch (error) {
    context.xenipcUnavailable = `simulated host: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`;
    process.stderr.write(`xenipc will not be measured: ${context.xenipcUnavailable}\n`);
  }

  const report: BenchReport = {
    date: new Date().toISOString(),
    mode: options.mode,
    machine: machineInfo(loadAtStart, busyBefore),
    settings: {
      runs: options.runs,
      sizes: options.sizes,
      ringSizes: options.ringSizes,
      streamMs: options.streamMs,
      streamWarmupMs: options.streamWarmupMs,
      pingPongIterations: options.pingPongIterations,
      rpcIterations: options.rpcIterations,
      rpcPipelineMs: options.rpcPipelineMs,
      rpcPipelineWindow: options.rpcPipelineWindow,
      idleMs: options.idleMs,
      cacheLineNearBelowNs: NEAR_ROUND_TRIP_NS,
      xenipcDefaultSpinMicros: await import('@xenipc/channel').then(
        (channel) => channel.DEFAULT_SPIN_MICROS,
        () => null,
      ),
    },
    stream: [],
    pingPong: [],
    rpc: [],
    idle: [],
    vcpuSpeed: [vcpuAtStart],
    targets: [],
    notes: [...BASELINE_NOTES],
    wallSeconds: 0,
  };
  try {
    if (options.workloads.has('stream')) {
      report.stream = await runStreams(context);
      report.vcpuSpeed.push(await checkVcpuSpeeds('after stream'));
    }
    if (options.workloads.has('pingpong')) {
      report.pingPong = await runPingPongs(context);
      report.vcpuSpeed.push(await checkVcpuSpeeds('after ping-pong'));
    }
    if (options.workloads.has('rpc')) {
      report.rpc = await runRpc(context);
      report.vcpuSpeed.push(await checkVcpuSpeeds('after rpc'));
    }
    if (options.workloads.has('idle')) report.idle = await runIdle(context);
  } finally {
    // Before the workers exit: what this benchmark's own processes used, to tell other load apart.
    const ownCpuSeconds =
      [context.pairs.xenipc, context.pairs.unixSocket, context.pairs.childIpc, context.pairs.memcpy]
        .flatMap((p) => p?.pids ?? [])
        .reduce((sum, pid) => sum + processCpuSeconds(pid), 0) + orchestratorCpu() - orchestratorCpuAtStart;
    const elapsed = (performance.now() - wallAtStart) / 1000;
    otherLoadPercent = Math.round((1000 * (machineBusySeconds() - machineBusyAtStart - ownCpuSeconds)) / (elapsed * os.cpus().length)) / 10;
    await Promise.all(
      [context.pairs.xenipc, context.pairs.unixSocket, context.pairs.childIpc, context.pairs.memcpy].map((p) => p?.close().catch(() => undefined)),
    );
    await host?.close().catch(() => undefined);
    rmSync(simDir, { recursive: true, force: true });
  }
  report.notes.push(...context.notes);
  if (context.xenipcUnavailable !== undefined) report.notes.push(`xenipc was not (fully) measured: ${context.xenipcUnavailable}`);
  report.targets = evaluateTargets(report);
  report.machine = machineInfo(loadAtStart, busyBefore, otherLoadPercent);
  if (otherLoadPercent > 10) report.notes.push(`Other processes used ${otherLoadPercent} % of the machine's CPUs during the run: numbers are disturbed, spinning most.`);
  if (busyBefore > 20) report.notes.push(`The machine was ${busyBefore} % busy with other processes just before the start: numbers are disturbed, spinning most.`);
  const slowChecks = report.vcpuSpeed.filter((check) => vcpuSpread(check) > SLOW_VCPU_SPREAD);
  if (slowChecks.length > 0) {
    report.notes.push(
      `One vCPU ran the speed check's loop over ${SLOW_VCPU_SPREAD}x slower than the other (${describeVcpuChecks(slowChecks)}): the host gave it part of a core. Cells that keep both vCPUs busy, pipelined RPC most, ran slower for it (bench/ANALYSIS.md, "Pipelined RPC's two speeds: a slow vCPU").`,
    );
  }
  report.wallSeconds = (performance.now() - started) / 1000;

  const tables = buildTables(report);
  process.stdout.write(`${renderConsole(tables)}\n`);

  mkdirSync(options.outDir, { recursive: true });
  const base = join(options.outDir, options.mode);
  const svg = renderThroughputSvg(report.stream, `${report.date.slice(0, 16)}Z, ${report.machine.cpuModel}, ${report.machine.cpus} vCPUs, medians of ${options.runs} runs`);
  const chartFile = svg === '' ? undefined : `${options.mode}-throughput.svg`;
  if (chartFile !== undefined) writeFileSync(join(options.outDir, chartFile), svg);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(`${base}.md`, renderMarkdown(report, tables, chartFile));
  process.stderr.write(`\nwrote ${base}.json, ${base}.md${chartFile === undefined ? '' : `, ${join(options.outDir, chartFile)}`} (${report.wallSeconds.toFixed(0)} s)\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
