/**
 * Prints where a V8 .cpuprofile (node --cpu-prof) spent its time: self time per function, top N,
 * with file:line, plus total and idle share. Usage:
 *   node --import tsx bench/tools/summarize-cpuprofile.ts <file.cpuprofile>... [--top=25]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
for (const file of args.filter((a) => !a.startsWith('--'))) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const frame = byId.get(id)?.callFrame;
    const url = frame?.url ? relative(process.cwd(), frame.url.replace(/^file:\/\//, '')) : '';
    const key = `${frame?.functionName || '(anonymous)'} ${url}${url ? `:${(frame?.lineNumber ?? 0) + 1}` : ''}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  });
  console.log(`\n${file}: ${(total / 1e6).toFixed(2)} s sampled`);
  for (const [key, us] of [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
  }
}
