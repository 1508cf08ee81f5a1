/**
 * The file of a listening Unix socket, handled without ever deleting what is not ours: a path
 * that exists is refused (a regular file, a directory, a live socket, even a leftover socket
 * of an earlier run: it may be someone else's), and on exit we remove only the socket we
 * created, and only if it is still that socket.
 */
import { connect } from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
import { CommandError } from './command-error.js';

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Throws CommandError unless nothing exists at `path`. */
export async function assertSocketPathFree(path: string): Promise<void> {
  const stat = await lstat(path).catch((err: unknown) => {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (stat === undefined) return;
  if (!stat.isSocket()) {
    const what = stat.isDirectory() ? 'a directory' : stat.isSymbolicLink() ? 'a symbolic link' : 'a file';
    throw new CommandError('EEXIST', `${path} is ${what}, not a socket: refusing to replace it; choose another path`);
  }
  if (await answers(path)) throw new CommandError('EADDRINUSE', `${path}: another process is already listening there`);
  throw new CommandError('EEXIST', `${path} is a leftover socket nobody listens on; remove it if it is yours (rm ${path}) and try again`);
}

/** The socket file we created by listening: its identity, so that we remove only it. */
export class OwnedSocketFile {
  private constructor(
    readonly path: string,
    private readonly dev: number,
    private readonly ino: number,
  ) {}

  /** Call right after listen() succeeded. */
  static async claim(path: string): Promise<OwnedSocketFile> {
    const stat = await lstat(path);
    return new OwnedSocketFile(path, stat.dev, stat.ino);
  }

  /** True if the path still holds the socket we created. */
  async isStillOurs(): Promise<boolean> {
    const stat = await lstat(this.path).catch(() => undefined);
    return stat !== undefined && stat.isSocket() && stat.dev === this.dev && stat.ino === this.ino;
  }

  /** Remove the file if it is still our socket; anything else there is left alone. */
  async remove(): Promise<void> {
    if (await this.isStillOurs()) await unlink(this.path).catch(() => undefined);
  }
}
