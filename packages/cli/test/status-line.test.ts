/** Status on stderr: lines always (unless -q); the in-place progress line only on a terminal. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../src/format-bytes.js';
import { StatusLine } from '../src/status-line.js';

function fakeStderr(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('StatusLine', () => {
  it('on a terminal: draws progress in place, and clears it before a permanent line', () => {
    const { stream, text } = fakeStderr(true);
    const status = new StatusLine(stream, 'xenipc connect', false);
    expect(status.live).toBe(true);
    status.draw('sent 1.0 MiB');
    status.draw('sent 2.0 MiB');
    status.say('connected');
    status.stop();
    expect(text()).toBe('\r\x1b[2Kxenipc connect: sent 1.0 MiB\r\x1b[2Kxenipc connect: sent 2.0 MiB\r\x1b[2Kxenipc connect: connected\n');
  });

  it('elsewhere (a pipe, a log file): permanent lines only', () => {
    const { stream, text } = fakeStderr(false);
    const status = new StatusLine(stream, 'xenipc listen', false);
    status.startProgress(() => 'never drawn');
    status.draw('never drawn');
    status.say('listening');
    status.stop();
    expect(text()).toBe('xenipc listen: listening\n');
  });

  it('-q: nothing at all, even on a terminal', () => {
    const { stream, text } = fakeStderr(true);
    const status = new StatusLine(stream, 'xenipc connect', true);
    status.draw('x');
    status.say('y');
    status.stop();
    expect(text()).toBe('');
  });
});

describe('formatBytes', () => {
  it('is exact below 1 KiB and one decimal above', () => {
    expect([0, 1023, 1024, 1536, 1024 * 1024 * 1.25, 200 * 1024 * 1024].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '1.3 MiB', '200 MiB']);
  });
});
