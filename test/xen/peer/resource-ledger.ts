/**
 * What a vchan holds while open, counted from outside the channel code, so a leak shows as a
 * difference from a baseline: in this process, its mappings of /dev/xen/gntalloc (pages we
 * granted) and /dev/xen/gntdev (pages of others we mapped) and its open file descriptors; in
 * dom0 additionally, per domain, the event-channel ports Xen has bound (`lsevtchn`) and the
 * xenstore entries under its data/vchan directory (`xenstore-ls`).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProcessLedger {
  gntallocMappings: number;
  gntdevMappings: number;
  openFds: number;
}

export function processLedger(): ProcessLedger {
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n');
  return {
    gntallocMappings: maps.filter((l) => l.endsWith('/dev/xen/gntalloc')).length,
    gntdevMappings: maps.filter((l) => l.endsWith('/dev/xen/gntdev')).length,
    openFds: readdirSync('/proc/self/fd').length,
  };
}

export interface DomainLedger {
  /** Ports in use in the domain, by Xen's account (lsevtchn: one line per port). */
  boundPorts: number;
  /** Entries under /local/domain/<domid>/data/vchan. */
  vchanXenstoreEntries: number;
}

/** dom0 only (lsevtchn needs the control domain to ask about other domains). */
export async function domainLedger(domid: number): Promise<DomainLedger> {
  const ports = (await run('lsevtchn', [String(domid)])).stdout.split('\n').filter((l) => /^\s*\d+:/.test(l)).length;
  let entries = 0;
  try {
    entries = (await run('xenstore-ls', ['-f', `/local/domain/${domid}/data/vchan`])).stdout.split('\n').filter((l) => l.trim() !== '').length;
  } catch {
    entries = 0;   // no such directory: nothing there
  }
  return { boundPorts: ports, vchanXenstoreEntries: entries };
}
