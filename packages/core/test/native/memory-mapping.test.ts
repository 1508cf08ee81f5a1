import { closeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { mapFile, mapFilePages, memfdCreate, MemoryMapping, XenError } from '@xenipc/core';
import { runTs } from '../../../../test/support/spawn-domain.js';

const openFds: number[] = [];
function memfd(size: number): number {
  const fd = memfdCreate('xenipc-test', size);
  openFds.push(fd);
  return fd;
}
afterEach(() => {
  for (const fd of openFds.splice(0)) closeSync(fd);
});

describe('mapFile', () => {
  it('maps the file itself: two mappings of one memfd see each other\'s writes', () => {
    const fd = memfd(3 * 4096);
    const a = mapFile(fd, 0, 3 * 4096, { writable: true });
    const b = mapFile(fd, 4096, 2 * 4096, { writable: true });
    expect(a).toBeInstanceOf(MemoryMapping);
    expect(a.byteLength).toBe(3 * 4096);
    expect(b.buffer.byteLength).toBe(2 * 4096);
    new Uint8Array(a.buffer)[4096 + 7] = 0xab;
    expect(new Uint8Array(b.buffer)[7]).toBe(0xab);
    new Uint32Array(b.buffer)[1024] = 0xdeadbeef;
    expect(new DataView(a.buffer).getUint32(2 * 4096, true)).toBe(0xdeadbeef);
    a.unmap();
    b.unmap();
  });

  it('Atomics work on the mapped buffer', () => {
    const m = mapFile(memfd(4096), 0, 4096, { writable: true });
    const words = new Int32Array(m.buffer);
    expect(Atomics.add(words, 3, 5)).toBe(0);
    expect(Atomics.compareExchange(words, 3, 5, 9)).toBe(5);
    expect(Atomics.load(words, 3)).toBe(9);
    m.unmap();
  });

  it('unmap detaches the buffer: every view reads length 0; unmap is idempotent', () => {
    const m = mapFile(memfd(4096), 0, 4096, { writable: true });
    const bytes = new Uint8Array(m.buffer);
    const words = new Uint32Array(m.buffer, 64, 4);
    bytes[0] = 1;
    expect(m.closed).toBe(false);
    m.unmap();
    expect(m.closed).toBe(true);
    expect(m.buffer.byteLength).toBe(0);
    expect(bytes.length).toBe(0);
    expect(words.length).toBe(0);
    expect(bytes[0]).toBeUndefined();
    expect(m.byteLength).toBe(4096);
    m.unmap();
    expect(m.closed).toBe(true);
  });

  it('rejects bad arguments before any syscall with XenError EINVAL', () => {
    const fd = memfd(8192);
    const cases: Array<() => unknown> = [
      () => mapFile(fd, 100, 4096, { writable: true }),
      () => mapFile(fd, -4096, 4096, { writable: true }),
      () => mapFile(-1, 0, 4096, { writable: true }),
      () => mapFile(1.5, 0, 4096, { writable: true }),
      () => mapFile(fd, 0, 0, { writable: true }),
      () => mapFile(fd, 0, 2 ** 31, { writable: true }),
      () => mapFile(fd, 0, 4096, {} as { writable: boolean }),
    ];
    for (const call of cases) {
      const err = captureError(call);
      expect(err).toBeInstanceOf(XenError);
      expect(err).toMatchObject({ code: 'EINVAL', syscall: 'mmap' });
    }
  });

  it('reports a failing mmap as XenError with the errno name', () => {
    const fd = memfd(4096);
    closeSync(openFds.pop() ?? fd);
    const err = captureError(() => mapFile(fd, 0, 4096, { writable: true }));
    expect(err).toBeInstanceOf(XenError);
    expect(err).toMatchObject({ code: 'EBADF', syscall: 'mmap', errno: 9 });
    expect((err as XenError).message).toMatch(/map 4096 bytes of fd/);
  });

  it('a read-only mapping of a read-only fd works, a writable one is refused with EACCES', async () => {
    const fd = memfd(4096);
    const { openSync } = await import('node:fs');
    const ro = openSync(`/proc/self/fd/${fd}`, 'r');
    openFds.push(ro);
    const m = mapFile(ro, 0, 4096, { writable: false });
    expect(new Uint8Array(m.buffer)[0]).toBe(0);
    m.unmap();
    expect(captureError(() => mapFile(ro, 0, 4096, { writable: true }))).toMatchObject({ code: 'EACCES', syscall: 'mmap' });
  });
});

describe('mapFilePages', () => {
  it('places pages of different fds contiguously in the order given', () => {
    const fdA = memfd(2 * 4096);
    const fdB = memfd(4096);
    const a = mapFile(fdA, 0, 2 * 4096, { writable: true });
    const b = mapFile(fdB, 0, 4096, { writable: true });
    new Uint8Array(a.buffer).fill(0xa0, 0, 4096);
    new Uint8Array(a.buffer).fill(0xa1, 4096);
    new Uint8Array(b.buffer).fill(0xb0);
    const joined = mapFilePages([{ fd: fdB, offset: 0 }, { fd: fdA, offset: 4096 }, { fd: fdA, offset: 0 }], { writable: true });
    const bytes = new Uint8Array(joined.buffer);
    expect(bytes.length).toBe(3 * 4096);
    expect([bytes[0], bytes[4095], bytes[4096], bytes[8191], bytes[8192], bytes[12287]]).toEqual([0xb0, 0xb0, 0xa1, 0xa1, 0xa0, 0xa0]);
    bytes[8192] = 1; // writes reach the file
    expect(new Uint8Array(a.buffer)[0]).toBe(1);
    joined.unmap();
    expect(bytes.length).toBe(0);
    a.unmap();
    b.unmap();
  });

  it('fails as a whole (no partial mapping) when one page cannot be mapped', () => {
    const fd = memfd(4096);
    const err = captureError(() => mapFilePages([{ fd, offset: 0 }, { fd: 987_654, offset: 0 }], { writable: true }));
    expect(err).toMatchObject({ code: 'EBADF', syscall: 'mmap' });
  });

  it('validates every page before mapping', () => {
    const fd = memfd(4096);
    expect(captureError(() => mapFilePages([], { writable: true }))).toMatchObject({ code: 'EINVAL' });
    expect(captureError(() => mapFilePages([{ fd, offset: 0 }, { fd, offset: 12 }], { writable: true }))).toMatchObject({ code: 'EINVAL' });
  });
});

describe('memfdCreate', () => {
  it('rejects a negative size', () => {
    expect(captureError(() => memfdCreate('x', -1))).toMatchObject({ code: 'EINVAL', syscall: 'memfd_create' });
  });
});

describe('garbage collection', () => {
  it('keeps the mapping while its buffer is reachable and unmaps it once the buffer is collected', async () => {
    const { code, stdout, stderr } = await runTs(new URL('./fixtures/gc-unmap-child.ts', import.meta.url));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ afterMap: 1, afterWrapperCollected: 1, byteStillReadable: 42, afterBufferCollected: 0 });
  });
});

function captureError(call: () => unknown): unknown {
  try {
    call();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}
