import { UsageError } from './usage-error.js';

/** The other end of `xenipc proxy`: a Unix socket path or a TCP host and port. */
export type SocketAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/**
 * `unix:/run/app.sock`, `tcp:127.0.0.1:8080`, `tcp:[::1]:8080`, or `tcp:8080` (localhost).
 * The explicit scheme keeps a relative Unix path from ever being read as a port.
 */
export function parseSocketAddress(text: string, option: string): SocketAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path.length === 0) throw new UsageError(`${option}: unix: needs a path, as in unix:/run/app.sock`);
    return { kind: 'unix', path };
  }
  if (text.startsWith('tcp:')) {
    const rest = text.slice('tcp:'.length);
    const match = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+)$/.exec(rest);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      throw new UsageError(`${option}: ${JSON.stringify(text)} is not tcp:[host:]port with a port from 1 to 65535`);
    }
    const host = (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
    return { kind: 'tcp', host, port };
  }
  throw new UsageError(`${option}: ${JSON.stringify(text)} must start with unix: or tcp: (unix:/path/to.sock, tcp:host:port)`);
}

export function formatSocketAddress(address: SocketAddress): string {
  return address.kind === 'unix' ? `unix:${address.path}` : `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
