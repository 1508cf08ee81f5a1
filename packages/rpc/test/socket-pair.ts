/** A connected pair of Unix-domain sockets (in a fresh temp dir), for stream transport tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function unixSocketPair(): Promise<{ a: Socket; b: Socket; dispose: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'xenipc-rpc-'));
  const path = join(dir, 'rpc.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const b = connect(path);
  const a = await accepted;
  await new Promise<void>((resolve) => (b.connecting ? b.once('connect', resolve) : resolve()));
  server.close();
  return { a, b, dispose: () => { a.destroy(); b.destroy(); rmSync(dir, { recursive: true, force: true }); } };
}
