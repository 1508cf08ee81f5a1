/** What the results file records about the machine, so numbers are never read without context. */
import os from 'node:os';
import type { MachineInfo } from '../results-model.js';

export function machineInfo(loadAverageAtStart: number[], busyPercentBeforeStart: number, otherLoadPercentDuringRun = Number.NaN): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart,
    loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
    busyPercentBeforeStart,
    otherLoadPercentDuringRun,
  };
}
