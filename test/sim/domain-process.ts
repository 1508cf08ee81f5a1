/** Test-side handle of a domain.fixture.ts child process. */
import { FixtureProcess } from '../support/fixture-process.js';

export class DomainProcess extends FixtureProcess {
  constructor(dir: string, env: NodeJS.ProcessEnv = process.env) {
    super(new URL('./domain.fixture.ts', import.meta.url), [dir], env);
  }
}
