// The in-process loopback host (fast unit tests of code written against XenBackend).
export { createLoopbackHost, LoopbackHost, LoopbackBackend, type LoopbackHostOptions, type LoopbackLedger } from './loopback-host.js';

export { LoopbackEventChannel } from './loopback-event-channel.js';
export { connectInProcess, streamPair } from './in-process-xenstore.js';
