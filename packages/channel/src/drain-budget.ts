/**
 * Fair draining: how much receive work may run before the event loop gets a turn. A peer can keep
 * our read ring full forever (even of empty frames, moving only its index), so every receive
 * path counts what it delivers against this budget and, when it runs out, stops and resumes from
 * a setImmediate: timers, I/O and other channels run in between. The budget is refilled only by
 * that setImmediate (never by a wake-up, a microtask or a re-entrant call), so no chain of
 * events or promise continuations can add up to more than one budget between two yields.
 *
 * Units are bytes, plus a cost per frame for the per-message work: FRAME_COST where each message
 * is a fresh object (onMessage, 'message', the iterator, a stream chunk: the allocation and the
 * garbage collection it causes dominate), IN_PLACE_FRAME_COST where frames are delivered in place
 * (onFrame). So a budget is at most 4 MiB of data, 4096 allocated messages or 16 384 in-place
 * frames: up to a millisecond or two of work on an idle machine; MessageChannel's turn is about
 * TURN_MS (below).
 *
 * Why 4 MiB of data and not less: a yield costs a trip round the event loop, and a budget the
 * size of the ring made a stream of 64 KiB messages through a 1 MiB ring yield once per ring's
 * worth, which cost it about a quarter of its throughput (13.3 against 17.8 GB/s; bench/ANALYSIS.md,
 * "Fair draining and the 64 KiB regression").
 * Copying 4 MiB out of the ring takes well under a millisecond; the frame costs are scaled with
 * it, so a flood of small frames yields exactly as often as with a 1 MiB budget.
 */
export const WORK_PER_TURN = 4 * 1024 * 1024;

/**
 * MessageChannel: a budget spent less than TURN_MS after the turn began (the setImmediate that
 * refilled it) is refilled at once; the turn yields once the clock says TURN_MS have passed. So a
 * turn lasts about TURN_MS (plus at most one budget's work) however fast the data comes, and the
 * budget only decides how often the clock is read. With bytes alone a 1 MiB ring of 64 KiB
 * messages at ~25 GB/s yielded every ~160 us, 6 000 times a second; each yield cost a trip round
 * the event loop and let the sender fill the ring meanwhile. Alternated whole benches (64 KiB
 * messages, 1 MiB ring, ratio to the C ring): claim/commit higher in 8 of 10 rounds (medians
 * 0.71x -> 0.83x and 0.78x -> 0.84x in two sets), send() in 5 of 10 (bench/ANALYSIS.md, "A turn
 * of about 2 ms"). The flood tests (fair-draining.test.ts) still bound the event-loop lag.
 * A turn that began long ago (the channel slept since) yields at its first empty budget, as before.
 */
export const TURN_MS = 2;
export const FRAME_COST = 1024;
export const IN_PLACE_FRAME_COST = 256;

/**
 * VchanStream's budget per turn (same units, FRAME_COST per chunk): it keeps 1 MiB, since every
 * chunk goes through a Readable to consumers that do work per byte (parsers, pipes); with 4 MiB
 * its flood test saw event-loop lags of 22-37 ms.
 */
export const STREAM_WORK_PER_TURN = 1024 * 1024;
