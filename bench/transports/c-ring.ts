/**
 * The C ring baseline (c-ring/c-ring.c): libxenvchan's io.c algorithm -- copy in, index store,
 * notify check, copy out -- in C, between two processes over a memfd with the exact vchan layout.
 * Built at bench time with the system C compiler (`cc`, or $CC), no download; without a compiler
 * its cells are skipped with a note. The orchestrator runs it (it forks its own reader) and reads
 * one line of JSON: the timed window's messages and seconds.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileC } from '../control/c-compiler.js';

export interface CRingSpec {
  size: number;
  ringBytes: number;
  warmupMs: number;
  durationMs: number;
  /** 0: every frame published (one libxenvchan_write() per message); N: publish once N bytes are unpublished. */
  publishBytes: number;
}

export interface CRingResult {
  messages: number;
  seconds: number;
}

const SOURCE = fileURLToPath(new URL('./c-ring/c-ring.c', import.meta.url));

/**
 * xenipc's sender publication interval for a ring (message-channel.ts, publishInterval): the C
 * ring's "batched" policy uses the same number, so that 64 B msg/s compare like with like.
 */
export function xenipcPublishBytes(ringBytes: number): number {
  return Math.min(16 * 1024, Math.max(256, ringBytes >>> 2));
}

/** Compiles the C ring into `dir`; returns the binary's path, or why it could not. */
export function buildCRing(dir: string): { path: string } | { unavailable: string } {
  return compileC('the C ring', SOURCE, join(dir, 'xenipc-c-ring'));
}

export function measureCRing(binary: string, spec: CRingSpec): Promise<CRingResult> {
  const args = [spec.size, spec.ringBytes, spec.warmupMs, spec.durationMs, spec.publishBytes].map(String);
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`c-ring ${args.join(' ')}: ${stderr.trim() || error.message}`));
        return;
      }
      try {
        const result = JSON.parse(stdout) as CRingResult;
        if (!(result.messages > 0 && result.seconds > 0)) throw new Error(`implausible result ${stdout.trim()}`);
        resolve(result);
      } catch (parseError) {
        reject(new Error(`c-ring ${args.join(' ')}: ${(parseError as Error).message}`));
      }
    });
  });
}
