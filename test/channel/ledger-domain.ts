/** Test-side handle of a ledger-domain.fixture.ts child process (one simulated domain). */
import { FixtureProcess } from '../support/fixture-process.js';

export type { Reply } from '../support/fixture-process.js';

export class LedgerDomain extends FixtureProcess {
  domid = -1;

  /**
   * Spawn the process without joining yet: Node's start-up and the TypeScript transform (the
   * slow part, about a second) happen while the test runs other cycles; join() is then fast.
   */
  static spawn(dir: string): LedgerDomain {
    return new LedgerDomain(new URL('./ledger-domain.fixture.ts', import.meta.url), [dir]);
  }

  /** Become a domain (the host picks a new domid). */
  async join(): Promise<this> {
    this.domid = (await this.do('join'))['domid'] as number;
    return this;
  }
}
