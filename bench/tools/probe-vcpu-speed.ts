/**
 * Is one vCPU slow right now? The benchmark's vCPU speed check (report/vcpu-speed.ts: a fixed
 * compute loop alone on each CPU in turn), `count` times `gapMs` apart. A vCPU well above the
 * other means the host gives it part of a core: cells that keep both vCPUs busy slow with it.
 *   node --conditions=xenipc-source --import tsx bench/tools/probe-vcpu-speed.ts [count] [gapMs]
 */
import { checkVcpuSpeeds, describeVcpuChecks } from '../report/vcpu-speed.js';

const [count = 5, gapMs = 1000] = process.argv.slice(2, 4).map(Number);
for (let i = 0; i < count; i++) {
  if (i > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  console.log(describeVcpuChecks([await checkVcpuSpeeds(new Date().toISOString().slice(11, 19))]));
}
