/**
 * Starts the simulated Xen host (from @xenipc/core) that the xenipc worker pair joins. It lives in
 * the orchestrator process; the idle measurement reports the orchestrator's CPU for that reason.
 */
export interface BenchHost {
  close(): Promise<void>;
}

export async function startSimulatedHostForBench(dir: string): Promise<BenchHost> {
  const core = (await import('@xenipc/core')) as Record<string, unknown>;
  const start = core.startSimulatedHost as ((options: { dir: string }) => Promise<{ close(): Promise<void> | void }>) | undefined;
  if (typeof start !== 'function') throw new Error('@xenipc/core does not export startSimulatedHost yet');
  const host = await start({ dir });
  return { close: async () => host.close() };
}
