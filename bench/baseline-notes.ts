/** How each baseline is driven, recorded in every results file so a reader can judge fairness. */
export const BASELINE_NOTES: readonly string[] = [
  'Unix socket (node:net, stream): length-prefixed frames. Messages < 8 KiB are copied into 64 KiB batch buffers (recycled through write callbacks), one write() per batch; larger messages are written from the caller\'s buffer, header + body in one writev (cork/uncork). At most 32 writes outstanding. The receiver parses frames in place and reassembles frames split across reads.',
  'child_process IPC: parent and child, serialization "advanced" (structured clone; JSON would be far slower for Buffers). Messages < 8 KiB are framed into 64 KiB batches, one send() per batch; larger ones one send() each. At most 32 sends outstanding.',
  'Ping-pong on the baselines sends one message per write/send (nothing to batch in a round trip).',
  'msgpack-rpc baseline: the same @xenipc/rpc library over a Unix socket (a net.Socket Duplex) instead of a xenipc channel, so the difference is the transport.',
  'memcpy ceiling: one Buffer.copy per message into a ring-sized buffer (in ring-sized pieces for larger messages), in one process.',
  '2-copy ring ceiling: two spinning threads, copy in with one set() per message (index published every quarter ring or when full; messages over half the ring streamed a quarter ring at a time), copy out of everything available with one set() per contiguous run; memfd memory mapped by both threads, as xenipc\'s on the simulated host; no framing, no events. Copy-out-before-parsing makes two copies the minimum for xenipc.',
  'Ping-pong placements: "unpinned" cells feed the targets; "one CPU" / "two CPUs" cells pin both workers (taskset -a) to one CPU or one CPU each, and compare with the Unix socket in the same placement.',
  'xenipc RPC: @xenipc/rpc createChannelPeer (ChannelTransport over a MessageChannel). xenipc "spinning" = the channel default spinMicros (adaptive), "event-only" = spinMicros 0.',
  'xenipc runs on the simulated Xen host (shared memory between processes); the real-Xen path maps grant pages instead but runs the same ring code.',
];
