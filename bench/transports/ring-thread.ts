/**
 * What the ring baselines of the memcpy worker share (two-copy-ceiling.ts, bare-ring-floor.ts):
 * a memfd mapped by this thread through the native addon, as xenipc's rings are on the simulated
 * host, and a worker_thread that maps the same memfd and runs the other side of the ring. The
 * thread is started per measurement and always terminated; the memfd is unmapped and closed.
 */
import { closeSync, existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { mapFile, memfdCreate } from '@xenipc/core';
import { addonCandidatePaths } from '@xenipc/core/backend-kit';

/**
 * The start of every thread's source (plain JavaScript: a worker_thread does not inherit the
 * TypeScript loader the benchmark runs under; hence also the addon's MappingHandle used directly,
 * as mapFile() does). It defines `parentPort`, `workerData` and `mapping` (the whole memfd,
 * writable; `mapping.buffer` is a plain ArrayBuffer over it).
 */
const THREAD_PRELUDE = `
const { parentPort, workerData } = require('node:worker_threads');
const mapping = new (require(workerData.addonPath).MappingHandle)(workerData.fd, 0, workerData.mappedBytes, true);
`;

export interface RingThreadSpec {
  /** For error messages, e.g. "two-copy ceiling". */
  label: string;
  memfdName: string;
  mappedBytes: number;
  /** The thread's code, run after THREAD_PRELUDE. It should unmap `mapping` when done. */
  source: string;
  /** More workerData for the thread (addonPath, fd and mappedBytes are added). */
  data: Record<string, unknown>;
  /** Runs before the thread is terminated (e.g. to tell a spinning thread to stop). */
  beforeTerminate?: (buffer: ArrayBuffer) => void;
}

/** How long a thread that was told to stop gets to exit by itself before terminate(). */
const THREAD_EXIT_GRACE_MS = 2000;

async function exitOrTerminate(thread: Worker, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<boolean>((resolve) => {
    thread.once('exit', () => resolve(true));
    timer = setTimeout(() => resolve(false), graceMs);
  });
  const ended = thread.threadId === -1 || (await exited);
  clearTimeout(timer);
  if (!ended) await thread.terminate();
}

/** The thread's next message; rejects if it fails or exits first. */
export function threadMessage(thread: Worker, label: string, what: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      thread.off('message', onMessage);
      thread.off('error', onError);
      thread.off('exit', onExit);
    };
    const onMessage = (message: unknown): void => {
      cleanup();
      resolve(message);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`${label}: the thread exited (${code}) before ${what}`));
    };
    thread.on('message', onMessage);
    thread.on('error', onError);
    thread.on('exit', onExit);
  });
}

/**
 * Creates and maps the memfd, starts the thread, waits for its first message and runs `body`
 * with this thread's view of the memory, the thread and that message; then terminates the thread
 * (also when anything fails), unmaps and closes the memfd.
 */
export async function withRingThread<T>(spec: RingThreadSpec, body: (buffer: ArrayBuffer, thread: Worker, first: unknown) => Promise<T> | T): Promise<T> {
  const addonPath = addonCandidatePaths().find((path) => existsSync(path));
  if (addonPath === undefined) throw new Error(`${spec.label}: no native addon (looked for ${addonCandidatePaths().join(', ')})`);
  const fd = memfdCreate(spec.memfdName, spec.mappedBytes);
  let mapping;
  try {
    mapping = mapFile(fd, 0, spec.mappedBytes, { writable: true });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  let thread: Worker | undefined;
  try {
    thread = new Worker(THREAD_PRELUDE + spec.source, { eval: true, workerData: { ...spec.data, addonPath, fd, mappedBytes: spec.mappedBytes } });
    const first = await threadMessage(thread, spec.label, 'starting');
    return await body(mapping.buffer, thread, first);
  } finally {
    spec.beforeTerminate?.(mapping.buffer);
    // Let the thread finish (unmap, exit) on its own first: terminate() landing inside its
    // mapping.unmap() aborts the whole process (the addon's Unmap throws a C++ exception while
    // the thread's environment is being torn down, and std::terminate follows). terminate()
    // only for a thread that does not end by itself.
    if (thread !== undefined) await exitOrTerminate(thread, THREAD_EXIT_GRACE_MS);
    mapping.unmap();
    closeSync(fd);
  }
}
