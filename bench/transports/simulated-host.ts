/**
 * Starts the simulated Xen host (from @xenipc/core) that the xenipc worker pair joins. It lives in
 * the orchestrator process; the idle measurement reports the orchestrator's CPU for that reason.
 */
export interface BenchHost {
  close(): Promise<void>;
}

export async function startSimulatedHostForBench(dir: string): Promise<BenchHost> {
  const { startSimulatedHost } = await import('@xenipc/sim');
  return startSimulatedHost({ dir });
}
