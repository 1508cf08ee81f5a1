/** Test-side handle of a vchan-peer.fixture.ts child process (one simulated domain). */
import { FixtureProcess } from '../support/fixture-process.js';

export type { Reply } from '../support/fixture-process.js';

export class VchanProcess extends FixtureProcess {
  domid = -1;

  static async start(dir: string): Promise<VchanProcess> {
    const p = new VchanProcess(new URL('./vchan-peer.fixture.ts', import.meta.url), [dir]);
    p.domid = (await p.do('join'))['domid'] as number;
    return p;
  }
}
