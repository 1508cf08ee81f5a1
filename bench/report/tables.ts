/**
 * The results as plain tables (header row + rows of strings), shared by the console and the
 * markdown renderers so both always show the same numbers.
 */
import { describePlacement } from '../control/cpu-placement.js';
import type { BenchReport, PingPongCell, StreamCell } from '../results-model.js';
import { buildProximityTable } from './proximity-table.js';
import { formatBytes, formatMbPerSec, formatMicros, formatPercent, formatRate, formatRatio } from './units.js';

export interface Table {
  title: string;
  header: string[];
  rows: string[][];
  notes?: string[];
}

function streamCell(report: BenchReport, transport: string, size: number, ring: number | null): StreamCell | undefined {
  return report.stream.find((c) => c.transport === transport && c.size === size && c.ringBytes === ring);
}

function throughput(cell: StreamCell | undefined): string {
  if (cell === undefined || cell.runs.length === 0) return cell?.errors.length ? 'failed' : 'n/a';
  return `${formatMbPerSec(cell.medianMbPerSec)} MB/s, ${formatRate(cell.medianMsgPerSec)} msg/s`;
}

function pingPongName(cell: PingPongCell): string {
  switch (cell.transport) {
    case 'xenipc':
      return `xenipc, ${cell.spin ? 'spinning' : 'event-only'}`;
    case 'unix-socket':
      return 'Unix socket';
    case 'child-ipc':
      return 'child_process IPC';
    case 'bare-ring':
      return 'bare ring floor (2 threads)';
  }
}

export function buildTables(report: BenchReport): Table[] {
  const tables: Table[] = [];
  const sizes = [...new Set(report.stream.map((c) => c.size))].sort((a, b) => a - b);
  const rings = [...new Set(report.stream.filter((c) => c.transport === 'xenipc').map((c) => c.ringBytes as number))].sort((a, b) => a - b);

  if (sizes.length > 0) {
    const has = (transport: string): boolean => report.stream.some((c) => c.transport === transport);
    const ringColumns = (transport: string, label: string): { header: string; cell: (size: number) => string }[] =>
      has(transport) ? rings.map((r) => ({ header: `${label} ${formatBytes(r)}`, cell: (size: number) => throughput(streamCell(report, transport, size, r)) })) : [];
    const columns = [
      ...rings.map((r) => ({ header: `xenipc ${formatBytes(r)} ring`, cell: (size: number) => throughput(streamCell(report, 'xenipc', size, r)) })),
      ...ringColumns('xenipc-claim', 'xenipc claim/commit'),
      ...ringColumns('c-ring', 'C ring'),
      ...ringColumns('c-ring-per-message', 'C ring, 1 publish/msg'),
      { header: 'Unix socket (batched)', cell: (size: number) => throughput(streamCell(report, 'unix-socket', size, null)) },
      { header: 'child_process IPC', cell: (size: number) => throughput(streamCell(report, 'child-ipc', size, null)) },
      { header: 'Unix socket, 1 write/msg', cell: (size: number) => throughput(streamCell(report, 'unix-socket-unbatched', size, null)) },
      ...ringColumns('memcpy', 'memcpy'),
      ...ringColumns('two-copy', '2-copy JS ring'),
    ];
    tables.push({
      title: 'One-way stream throughput (median of runs; MB = 10^6 payload bytes)',
      header: ['size', ...columns.map((c) => c.header)],
      rows: sizes.map((size) => [formatBytes(size), ...columns.map((c) => c.cell(size))]),
    });
    const ratio = (a: StreamCell | undefined, b: StreamCell | undefined): string => formatRatio((a?.medianMbPerSec ?? NaN) / (b?.medianMbPerSec ?? NaN));
    tables.push({
      title: 'Stream throughput ratios (xenipc median / baseline median; the C ring is the anchor)',
      header: ['size', ...rings.flatMap((r) => [`${formatBytes(r)} ring: send() of C ring`, 'claim/commit of C ring', 'send() of 2-copy JS ring', 'of memcpy', 'vs socket', 'vs socket 1 write/msg'])],
      rows: sizes.map((size) => [
        formatBytes(size),
        ...rings.flatMap((r) => {
          const xen = streamCell(report, 'xenipc', size, r);
          const cRing = streamCell(report, 'c-ring', size, r);
          return [
            ratio(xen, cRing),
            ratio(streamCell(report, 'xenipc-claim', size, r), cRing),
            ratio(xen, streamCell(report, 'two-copy', size, r)),
            ratio(xen, streamCell(report, 'memcpy', size, r)),
            ratio(xen, streamCell(report, 'unix-socket', size, null)),
            ratio(xen, streamCell(report, 'unix-socket-unbatched', size, null)),
          ];
        }),
      ]),
    });
  }

  if (report.pingPong.length > 0) {
    const placements = ['free', 'one-cpu', 'two-cpus'] as const;
    const ordered = placements.flatMap((p) => report.pingPong.filter((c) => c.placement === p));
    const notes = ['p50 vs Unix socket: against the Unix socket in the same placement. Spinning is not measured on one CPU: the spinner would hold the only CPU its peer needs to answer.'];
    if (report.pingPong.some((c) => c.transport === 'bare-ring')) {
      notes.push('Bare ring floor: two spinning threads of one process bounce the same frame over the vchan layout (copy in, index store, copy out; nothing else); A = the echo thread, B = the timing thread. It moves with host-core placement from run to run: compare xenipc with it only within one run (Targets, reference rows).');
    }
    if (!report.pingPong.some((c) => c.placement !== 'free')) notes.push('Pinned placements were not measured on this machine (see Notes).');
    tables.push({
      title: `Ping-pong round trip, ${report.pingPong[0]!.size} B (median over runs of each run's percentile)`,
      header: ['transport', 'placement', 'p50 us', 'p99 us', 'p50 vs Unix socket', 'runs'],
      rows: ordered.map((c) => {
        const socket = report.pingPong.find((s) => s.transport === 'unix-socket' && s.placement === c.placement);
        return [
          pingPongName(c),
          describePlacement(c.placement, c.cpus),
          formatMicros(c.medianP50Ns),
          formatMicros(c.medianP99Ns),
          formatRatio(c.medianP50Ns / (socket?.medianP50Ns ?? NaN)),
          c.runs.length === 0 && c.errors.length > 0 ? 'failed' : String(c.runs.length),
        ];
      }),
      notes,
    });
  }

  if (report.rpc.length > 0) {
    const socket = report.rpc.find((c) => c.transport === 'rpc-unix-socket');
    tables.push({
      title: 'RPC (@xenipc/rpc, msgpack-rpc): small call round trip and pipelined throughput',
      header: ['transport', 'p50 us', 'p99 us', 'p50 vs socket', 'pipelined calls/s', 'runs'],
      rows: report.rpc.map((c) => [
        c.transport === 'rpc-xenipc' ? `xenipc channel, ${c.spin ? 'spinning' : 'event-only'}` : 'Unix socket (same library)',
        formatMicros(c.medianP50Ns),
        formatMicros(c.medianP99Ns),
        formatRatio(c.medianP50Ns / (socket?.medianP50Ns ?? NaN)),
        formatRate(c.medianCallsPerSec),
        c.runs.length === 0 && c.errors.length > 0 ? 'failed' : String(c.runs.length),
      ]),
    });
  }

  if (report.idle.length > 0) {
    tables.push({
      title: 'CPU of an idle open connection (percent of one core, per process)',
      header: ['connection', 'listener (A)', 'connector (B)', 'orchestrator / sim host', 'window s'],
      rows: report.idle.map((c) => [c.label, formatPercent(c.cpuPercentA), formatPercent(c.cpuPercentB), formatPercent(c.cpuPercentHost), c.seconds.toFixed(1)]),
    });
  }

  if (report.targets.length > 0) {
    tables.push({
      title: 'Targets',
      header: ['target', 'wanted', 'measured', 'met'],
      rows: report.targets.map((t) => [t.name, t.wanted, t.measured, t.met === null ? (t.reference === true ? '-' : 'n/a') : t.met ? 'yes' : 'NO']),
    });
  }
  const byProximity = buildProximityTable(report);
  if (byProximity !== undefined) tables.push(byProximity);
  return tables;
}

export function renderConsole(tables: readonly Table[]): string {
  const out: string[] = [];
  for (const table of tables) {
    const all = [table.header, ...table.rows];
    const widths = table.header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
    const line = (row: string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
    out.push('', table.title, line(table.header), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line));
    for (const note of table.notes ?? []) out.push(`  ${note}`);
  }
  return out.join('\n');
}

export function renderMarkdownTables(tables: readonly Table[]): string {
  const out: string[] = [];
  for (const table of tables) {
    out.push(`### ${table.title}`, '', `| ${table.header.join(' | ')} |`, `|${table.header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const row of table.rows) out.push(`| ${row.join(' | ')} |`);
    out.push('');
    if (table.notes !== undefined && table.notes.length > 0) out.push(...table.notes, '');
  }
  return out.join('\n');
}
