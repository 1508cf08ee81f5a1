/** Live counters of one RpcPeer (`peer.stats`); read them, do not write them. */
export interface RpcStats {
  /** Requests this side sent (calls made). */
  callsSent: number;
  /** Calls settled with a result / with a remote error. */
  callsSucceeded: number;
  callsFailed: number;
  /** Calls rejected locally: timeout / abort / connection closed / could not be encoded or too large. */
  callsTimedOut: number;
  callsAborted: number;
  callsClosed: number;
  callsUnsendable: number;
  notificationsSent: number;
  requestsReceived: number;
  notificationsReceived: number;
  /** Responses this side sent (results and errors). */
  responsesSent: number;
  /** Requests answered with MethodNotFound / Overloaded; notifications with no handler. */
  methodNotFound: number;
  overloaded: number;
  unknownNotifications: number;
  /** Notification handlers that threw or rejected. */
  notificationErrors: number;
  /** Responses for calls that had already timed out or been aborted (dropped). */
  lateResponses: number;
  /** Responses whose msgid matches no call this side remembers (dropped). */
  unknownResponses: number;
  /** Responses whose body could not be decoded; their call was rejected with RpcDecodeError (also counted in decodeErrors). */
  responsesUndecodable: number;
  /** Messages dropped as bad input, by kind. */
  malformed: number;
  oversized: number;
  notMsgpack: number;
  privateExtension: number;
  decodeErrors: number;
  badShape: number;
  /** Times incoming delivery was paused because the request queue was full. */
  pauses: number;
}

export function createRpcStats(): RpcStats {
  return {
    callsSent: 0, callsSucceeded: 0, callsFailed: 0, callsTimedOut: 0, callsAborted: 0, callsClosed: 0,
    callsUnsendable: 0, notificationsSent: 0, requestsReceived: 0, notificationsReceived: 0,
    responsesSent: 0, methodNotFound: 0, overloaded: 0, unknownNotifications: 0, notificationErrors: 0,
    lateResponses: 0, unknownResponses: 0, responsesUndecodable: 0, malformed: 0, oversized: 0, notMsgpack: 0,
    privateExtension: 0, decodeErrors: 0, badShape: 0, pauses: 0,
  };
}
