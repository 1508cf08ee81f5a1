export { VchanServer, DEFAULT_RING_SIZE, type VchanServerOptions } from './vchan-server.js';
export { VchanClient, DEFAULT_CONNECT_TIMEOUT_MS, type VchanClientOptions } from './vchan-client.js';
export { VchanEndpoint, type VchanEndpointEvents, type VchanRole, type VchanWaitOptions } from './vchan-endpoint.js';
export { ChannelClosedError, type CloseReason } from './channel-closed-error.js';
export { defaultVchanPath, type VchanPort } from './rendezvous.js';
export * as controlPage from './control-page.js';
