export { VchanServer, DEFAULT_RING_SIZE, type VchanServerOptions } from './vchan-server.js';
export { VchanAcceptLoop } from './vchan-accept-loop.js';
export { VchanClient, DEFAULT_CONNECT_TIMEOUT_MS, type VchanClientOptions } from './vchan-client.js';
export { VchanEndpoint, DEFAULT_SPIN_MICROS, type VchanEndpointEvents, type VchanRole, type VchanWaitOptions } from './vchan-endpoint.js';
export { ChannelClosedError, type CloseReason } from './channel-closed-error.js';
export { defaultVchanPath, type VchanPort } from './rendezvous.js';
export * as controlPage from './control-page.js';
export { MessageChannel, DEFAULT_MAX_MESSAGE_SIZE, type MessageChannelOptions, type MessageChannelEvents } from './message-channel.js';
export { VchanStream, type VchanStreamOptions } from './vchan-stream.js';
