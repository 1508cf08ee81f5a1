/**
 * The two ends of a cross-domain test: in this process (dom0) the real backend, in the rig's domU
 * the peer agent. Test files open one per file (beforeAll) and close it afterwards.
 */
import { existsSync } from 'node:fs';
import { type DomId, openXenBackend, type XenBackend } from '@xenipc/core';
import { findPeerDomid, PeerAgent } from './agent-client.js';

/** True inside a Xen domain (the rig); the Xen test files skip elsewhere. */
export const runningInXen = existsSync('/proc/xen/capabilities');

export interface CrossDomain {
  /** The domU's domid. */
  peer: DomId;
  agent: PeerAgent;
  /** dom0's own real backend. */
  backend: XenBackend;
}

export async function openCrossDomain(): Promise<CrossDomain> {
  const peer = await findPeerDomid();
  const agent = await PeerAgent.connect(peer);
  try {
    return { peer, agent, backend: await openXenBackend() };
  } catch (err) {
    agent.close();
    throw err;
  }
}

export async function closeCrossDomain(ends: CrossDomain | undefined): Promise<void> {
  ends?.agent.close();
  await ends?.backend.close();
}

