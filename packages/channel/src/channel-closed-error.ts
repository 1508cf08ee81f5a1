/** Why a channel ended. */
export type CloseReason =
  /** We called close(). */
  | 'closed'
  /** The peer closed on purpose (or is a plain libxenvchan peer, which cannot say; see control-page.ts). */
  | 'peer-closed'
  /** The peer's process died: the kernel's unmap-notify cleared its live byte. */
  | 'peer-crashed'
  /** The peer's whole domain went away (no unmap-notify can run there). */
  | 'domain-gone'
  /** Our backend lost its host: the event-channel device failed or the xenstore connection closed
   * (e.g. the simulated host died, or the backend was closed under the channel). The peer may be alive. */
  | 'host-gone'
  /** The peer broke the framing protocol (e.g. a message over maxMessageSize). */
  | 'protocol-error';

const MESSAGES: Record<CloseReason, string> = {
  closed: 'the channel was closed',
  'peer-closed': 'the peer closed the channel',
  'peer-crashed': 'the peer process died (its live flag was cleared by the kernel)',
  'domain-gone': 'the peer domain no longer exists',
  'host-gone': 'the connection to the Xen host (event channels, xenstore) was lost',
  'protocol-error': 'the peer broke the message framing protocol',
};

/** Thrown by writes after the channel ended, and carried by streams that end abnormally. */
export class ChannelClosedError extends Error {
  override readonly name = 'ChannelClosedError';
  /** Always 'ECHANNELCLOSED', so it can be told apart from XenError codes. */
  readonly code = 'ECHANNELCLOSED';

  constructor(
    readonly reason: CloseReason,
    detail?: string,
  ) {
    super(detail === undefined ? MESSAGES[reason] : `${MESSAGES[reason]}: ${detail}`);
  }

  static is(err: unknown, reason?: CloseReason): err is ChannelClosedError {
    return err instanceof ChannelClosedError && (reason === undefined || err.reason === reason);
  }
}
