/** Test-side handle of a domain.fixture.ts child process: a domain the test can SIGKILL. */
import type { DomainHandle } from './domain-driver.js';
import { FixtureProcess } from './fixture-process.js';
import { fixtureBeside } from './spawn-domain.js';

/** `sim <dir>` joins the simulated host in dir; `xen` opens the real devices. */
export type DomainBackendSpec = { kind: 'sim'; dir: string } | { kind: 'xen' };

export class DomainProcess extends FixtureProcess implements DomainHandle {
  #domid = -1;

  constructor(backend: DomainBackendSpec | string, env: NodeJS.ProcessEnv = process.env) {
    const spec: DomainBackendSpec = typeof backend === 'string' ? { kind: 'sim', dir: backend } : backend;
    super(fixtureBeside('./domain.fixture.ts', import.meta.url), spec.kind === 'sim' ? ['sim', spec.dir] : ['xen'], env);
  }

  /** Our domid, known once join() resolved. */
  get domid(): number {
    return this.#domid;
  }

  /** Open the backend in the child; resolves with its domid. */
  async join(options: { autoStart?: boolean } = {}): Promise<number> {
    const { domid } = await this.do('join', options);
    this.#domid = domid as number;
    return this.#domid;
  }
}
