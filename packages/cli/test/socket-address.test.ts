import { describe, expect, it } from 'vitest';
import { formatSocketAddress, parseSocketAddress } from '../src/socket-address.js';
import { UsageError } from '../src/usage-error.js';

describe('parseSocketAddress', () => {
  it('reads unix paths and tcp host:port, with localhost as the default host', () => {
    expect(parseSocketAddress('unix:/run/app.sock', '--to')).toEqual({ kind: 'unix', path: '/run/app.sock' });
    expect(parseSocketAddress('unix:rel/app.sock', '--to')).toEqual({ kind: 'unix', path: 'rel/app.sock' });
    expect(parseSocketAddress('tcp:10.0.0.5:8080', '--to')).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 8080 });
    expect(parseSocketAddress('tcp:8080', '--from')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 8080 });
    expect(parseSocketAddress('tcp:[::1]:22', '--to')).toEqual({ kind: 'tcp', host: '::1', port: 22 });
  });

  it('round-trips through formatSocketAddress', () => {
    for (const text of ['unix:/a/b.sock', 'tcp:example.org:443', 'tcp:[::1]:22']) {
      expect(formatSocketAddress(parseSocketAddress(text, '--to'))).toBe(text);
    }
  });

  it('rejects what it cannot read, naming the option', () => {
    for (const text of ['/no/scheme', 'unix:', 'tcp:', 'tcp:host:0', 'tcp:host:65536', 'tcp:a:b:c', 'udp:1']) {
      expect(() => parseSocketAddress(text, '--to')).toThrow(UsageError);
      expect(() => parseSocketAddress(text, '--to')).toThrow(/--to/);
    }
  });
});
