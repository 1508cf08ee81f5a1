/** The results file for humans: bench/results/<mode>.md, next to the JSON and the chart. */
import type { BenchReport } from '../results-model.js';
import { describeProximity } from './proximity-table.js';
import { renderMarkdownTables, type Table } from './tables.js';
import { describeVcpuChecks } from './vcpu-speed.js';

export function renderMarkdown(report: BenchReport, tables: readonly Table[], chartFile: string | undefined): string {
  const m = report.machine;
  const lines = [
    `# xenipc benchmark results (${report.mode})`,
    '',
    `- Date: ${report.date}; wall time ${report.wallSeconds.toFixed(0)} s`,
    `- Machine: ${m.cpuModel}, ${m.cpus} vCPUs, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}`,
    `- Load average at start ${m.loadAverageAtStart.join(' / ')}, at end ${m.loadAverageAtEnd.join(' / ')}; CPUs ${m.busyPercentBeforeStart} % busy in the second before the start; other processes used ${m.otherLoadPercentDuringRun} % of all CPUs during the run`,
    `- vCPU speed, ns per element of a fixed loop alone on each CPU (lower is faster; report/vcpu-speed.ts): ${describeVcpuChecks(report.vcpuSpeed)}`,
    `- Where the host ran the two vCPUs, by the cache-line round trip between them before and after each measurement (control/cache-line-round-trip.ts): ${describeProximity(report) ?? 'not measured (see Notes)'}`,
    `- Settings: ${Object.entries(report.settings)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
      .join('; ')}`,
    '',
    'How to read: see bench/README.md. Every xenipc cell and every baseline cell is a median over',
    'interleaved runs taken in one session; ratios are ratios of those medians. What limits xenipc',
    'where a target is missed: bench/ANALYSIS.md.',
    '',
  ];
  if (chartFile !== undefined) lines.push(`![throughput vs message size](${chartFile})`, '');
  lines.push(renderMarkdownTables(tables));
  if (report.notes.length > 0) lines.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  const errors = [...report.stream, ...report.pingPong, ...report.rpc, ...report.idle].flatMap((c) => c.errors.map((e) => e.split('\n')[0]));
  if (errors.length > 0) lines.push('## Errors', '', ...[...new Set(errors)].map((e) => `- ${e}`), '');
  return lines.join('\n');
}
