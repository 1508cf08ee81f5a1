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
 * (onFrame). So a MessageChannel turn is at most 4 MiB of data, 4096 allocated messages or 16 384
 * in-place frames: a millisecond or two of work on an idle machine.
 *
 * Why 4 MiB of data and not less: a yield costs a trip round the event loop, and a budget the
 * size of the ring made a stream of 64 KiB messages through a 1 MiB ring yield once per ring's
 * worth, which cost it about a quarter of its throughput (13.3 against 17.8 GB/s; bench/ANALYSIS.md,
 * "Fair draining and the 64 KiB regression").
 * Copying 4 MiB out of the ring takes well under a millisecond; the frame costs are scaled with
 * it, so a flood of small frames yields exactly as often as with a 1 MiB budget.
 */
export const WORK_PER_TURN = 4 * 1024 * 1024;
export const FRAME_COST = 1024;
export const IN_PLACE_FRAME_COST = 256;

/**
 * VchanStream's budget per turn (same units, FRAME_COST per chunk): it keeps 1 MiB, since every
 * chunk goes through a Readable to consumers that do work per byte (parsers, pipes); with 4 MiB
 * its flood test saw event-loop lags of 22-37 ms.
 */
export const STREAM_WORK_PER_TURN = 1024 * 1024;
