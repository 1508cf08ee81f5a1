/**
 * XenbusDeviceStream mechanics without Xen: a FIFO opened read-write stands in for the character
 * device and echoes every message back, so a request comes back as its own "reply".
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XenbusDeviceStream, XenStoreClient } from '@xenipc/core';

describe('XenbusDeviceStream (FIFO stand-in for /dev/xen/xenbus)', () => {
  it('writes whole messages, reads replies from a blocking fd, and closes without hanging', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenipc-xenbus-'));
    const fifo = join(dir, 'xenbus');
    execFileSync('mkfifo', [fifo]);
    const stream = await XenbusDeviceStream.open(fifo);
    const client = new XenStoreClient(stream, fifo);
    // The echo of a READ request is a READ "reply" whose payload is the request's: "path\0".
    expect(await client.read('data/echo')).toBe('data/echo\0');
    expect(await client.directory('a')).toEqual(['a']);
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    client.close(); // a read is blocked in the thread pool; close must unblock it and finish
    await closed;
    rmSync(dir, { recursive: true });
  });
});
