/**
 * One line for why a channel ended, in the user's terms: the peer closed, the peer process
 * died, the peer domain is gone, or the host itself went away (named per backend).
 */
import { ChannelClosedError, type CloseReason } from '@xenipc/channel';
import type { BackendChoice } from '@xenipc/sim';

/** 'host-gone' is the reason @xenipc/channel reports once the host / xenstore connection is lost. */
export type ChannelEnding = CloseReason | 'host-gone';

export function hostGoneMessage(kind: BackendChoice['kind']): string {
  return kind === 'xen' ? 'xenstore connection lost (xenstored or the xenbus device went away)' : 'the simulated host went away';
}

/**
 * `hostGone`: the command saw its own host connection fail; then a 'domain-gone' or
 * 'peer-crashed' is the host's death seen through the channel, and is named as such.
 */
export function channelEndMessage(reason: ChannelEnding, kind: BackendChoice['kind'], hostGone = false): string {
  if (reason === 'host-gone' || (hostGone && (reason === 'domain-gone' || reason === 'peer-crashed'))) return hostGoneMessage(kind);
  return new ChannelClosedError(reason).message;
}
