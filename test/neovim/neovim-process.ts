/**
 * A real Neovim (`nvim --headless --clean --listen 127.0.0.1:PORT`) for the interop suite, and
 * TCP connections to it as @xenipc/rpc peers. Neovim is required: when `nvim` is not on PATH the
 * suite fails with the install line instead of skipping.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { createStreamPeer, type RpcPeer, type RpcPeerOptions } from '@xenipc/rpc';

export const NEOVIM_INSTALL_HINT = 'install it with: apt-get install -y neovim (Debian package; the CI image does this in .ci/run)';

/** Neovim's version line, or throws naming how to install it. */
export function requireNeovim(): string {
  const probe = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`the Neovim interop suite needs \`nvim\` on PATH (${probe.error?.message ?? `exit ${probe.status}`}); ${NEOVIM_INSTALL_HINT}`);
  }
  return probe.stdout.split('\n')[0]!;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class NeovimProcess {
  private readonly sockets: Socket[] = [];

  private constructor(readonly child: ChildProcess, readonly port: number) {}

  /** Start Neovim listening on a free TCP port; resolves once it accepts connections. */
  static async start(): Promise<NeovimProcess> {
    requireNeovim();
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      // the -c command runs after startup, when the --listen socket is bound: stderr then says so
      const child = spawn('nvim', ['--headless', '--clean', '--listen', `127.0.0.1:${port}`,
        '-c', "lua io.stderr:write('xenipc-ready\\n')"], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      const ready = await new Promise<boolean>((resolve) => {
        child.stderr!.setEncoding('utf8');
        child.stderr!.on('data', (text: string) => {
          stderr += text;
          if (stderr.includes('xenipc-ready')) resolve(true);
        });
        child.once('exit', () => resolve(false));
        child.once('error', () => resolve(false));
      });
      if (ready) return new NeovimProcess(child, port);
      // the port was taken between freePort() and nvim's bind: try another
      if (attempt >= 3) throw new Error(`nvim did not start: ${stderr.slice(0, 500)}`);
    }
  }

  /** A new TCP connection to this Neovim as an RpcPeer. */
  async connect(options: RpcPeerOptions = {}): Promise<RpcPeer> {
    const socket = connect(this.port, '127.0.0.1');
    this.sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return createStreamPeer(socket, options);
  }

  /** Close every connection and end Neovim; resolves when the process has exited. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}
