/**
 * The checks behind `xenipc doctor`: each inspects one thing the real backend needs and, when it
 * is missing, says which command fixes it. Pure inspection; nothing here changes the system.
 */
import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import type { HostRoot } from './host-root.js';
import { probeXenstore } from './xenstore-probe.js';

/** ok: works. missing: xenipc cannot run until fixed. warning: works, but worth knowing. */
export type CheckStatus = 'ok' | 'missing' | 'warning';

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** A command (or short instruction) that fixes a missing piece. */
  readonly fix?: string;
}

export interface DoctorReport {
  /** Whether this OS runs in a Xen domain at all. */
  readonly isXenDomain: boolean;
  readonly role?: 'dom0' | 'domU';
  readonly domid?: number;
  readonly checks: readonly CheckResult[];
  /** How many checks are `missing`; doctor exits non-zero when this is above 0. */
  readonly problems: number;
  /** A paragraph for humans: what the result means. */
  readonly explanation: string;
}

export interface DoctorOptions {
  readonly root: HostRoot;
  readonly env: NodeJS.ProcessEnv;
  readonly xenstoreTimeoutMs: number;
}

/** The character devices xenipc opens, the module providing each, and why it is needed. */
const DEVICES = [
  { device: '/dev/xen/gntalloc', module: 'xen_gntalloc', purpose: 'share pages with another domain (channel servers)' },
  { device: '/dev/xen/gntdev', module: 'xen_gntdev', purpose: "map another domain's pages (channel clients)" },
  { device: '/dev/xen/evtchn', module: 'xen_evtchn', purpose: 'event channels (wake-ups between domains)' },
] as const;

const NOT_XEN_EXPLANATION =
  'This machine is not a Xen domain: there is no /sys/hypervisor/type saying "xen" and no /proc/xen. ' +
  "xenipc's real backend talks to Xen's grant-table and event-channel drivers, which exist only inside " +
  'a Xen guest (domU) or dom0, so it cannot run here. Without Xen, use the simulated host: ' +
  'run `xenipc sim` in one terminal and pass `--backend sim` to `xenipc listen`/`connect` (or just `pnpm ping-pong`).';

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** modprobe takes dashes, /proc/modules shows underscores. */
function modprobeName(module: string): string {
  return module.replaceAll('_', '-');
}

async function checkHypervisor(root: HostRoot): Promise<{ result: CheckResult; isXen: boolean; role?: 'dom0' | 'domU' }> {
  const type = (await readText(root.path('/sys/hypervisor/type')))?.trim();
  const capabilities = await readText(root.path('/proc/xen/capabilities'));
  const role = capabilities?.includes('control_d') ? 'dom0' : 'domU';
  if (type === 'xen' && capabilities !== undefined) {
    return { isXen: true, role, result: { name: 'Xen domain', status: 'ok', detail: `${role} (/sys/hypervisor/type is "xen", /proc/xen mounted)` } };
  }
  if (type === 'xen') {
    return {
      isXen: true,
      role: 'domU',
      result: {
        name: 'Xen domain',
        status: 'warning',
        detail: 'running on Xen, but /proc/xen (xenfs) is not mounted; dom0 detection and the /proc/xen/xenbus fallback are unavailable',
        fix: 'sudo mount -t xenfs xenfs /proc/xen',
      },
    };
  }
  if (capabilities !== undefined) {
    return { isXen: true, role, result: { name: 'Xen domain', status: 'ok', detail: `${role} (/proc/xen/capabilities present)` } };
  }
  const seen = type ? `/sys/hypervisor/type is "${type}"` : 'no /sys/hypervisor/type';
  return { isXen: false, result: { name: 'Xen domain', status: 'missing', detail: `not running on Xen (${seen}, no /proc/xen)` } };
}

async function checkDevice(root: HostRoot, device: string, module: string, purpose: string): Promise<CheckResult> {
  const path = root.path(device);
  try {
    const handle = await open(path, constants.O_RDWR | constants.O_NONBLOCK);
    await handle.close();
    return { name: device, status: 'ok', detail: `opened read-write (${purpose})` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO') {
      return { name: device, status: 'missing', detail: `does not exist; needed to ${purpose}`, fix: `sudo modprobe ${modprobeName(module)}` };
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return {
        name: device,
        status: 'missing',
        detail: `exists but this user may not open it (${code})`,
        fix: `run as root, or give your user access: sudo chmod 0660 ${device} && sudo chgrp $(id -gn) ${device} (make it permanent with a udev rule)`,
      };
    }
    return { name: device, status: 'missing', detail: `cannot be opened: ${(err as Error).message}` };
  }
}

async function checkModule(root: HostRoot, loadedModules: ReadonlySet<string>, module: string, device: string): Promise<CheckResult> {
  const name = `module ${module}`;
  if (loadedModules.has(module)) return { name, status: 'ok', detail: 'loaded' };
  // Built-in drivers never appear in /proc/modules; /sys/module or the device itself proves them.
  if ((await exists(root.path(`/sys/module/${module}`))) || (await exists(root.path(device)))) {
    return { name, status: 'ok', detail: 'built into the kernel' };
  }
  return { name, status: 'missing', detail: 'neither loaded nor built in', fix: `sudo modprobe ${modprobeName(module)}` };
}

async function checkGntallocLimit(root: HostRoot, moduleMissing: boolean): Promise<CheckResult | undefined> {
  const text = await readText(root.path('/sys/module/xen_gntalloc/parameters/limit'));
  const name = 'gntalloc limit';
  if (text === undefined) {
    if (moduleMissing) return undefined; // already reported as a missing module
    return { name, status: 'warning', detail: 'cannot read /sys/module/xen_gntalloc/parameters/limit; the default is 1024 pages' };
  }
  const limit = Number(text.trim());
  // A channel with two 64 KiB rings costs 33 grants (2 x 16 ring pages + the control page).
  const detail = `${limit} pages may be shared at once by this domain (about ${Math.floor(limit / 33)} channels with 64 KiB rings)`;
  const raise = 'echo 16384 | sudo tee /sys/module/xen_gntalloc/parameters/limit';
  if (!Number.isInteger(limit) || limit < 1024) return { name, status: 'warning', detail: `${detail}; this is low`, fix: raise };
  return { name, status: 'ok', detail };
}

async function checkXenstore(options: DoctorOptions): Promise<{ result: CheckResult; domid?: number }> {
  const probe = await probeXenstore(options.root, options.env, options.xenstoreTimeoutMs);
  const name = 'xenstore';
  if (probe.answered) {
    const what = probe.domid !== undefined ? `our domid is ${probe.domid}` : `reading "domid" gave ${probe.error ?? 'an empty value'}`;
    const result: CheckResult = { name, status: 'ok', detail: `answers on ${probe.endpoint}; ${what}` };
    return probe.domid === undefined ? { result } : { result, domid: probe.domid };
  }
  const where = probe.endpoint ? `${probe.endpoint}: ` : '';
  return {
    result: {
      name,
      status: 'missing',
      detail: `${where}${probe.reason}`,
      fix: probe.endpoint ? 'check that xenstored runs in dom0 (`systemctl status xenstored`)' : 'sudo mount -t xenfs xenfs /proc/xen  (provides /proc/xen/xenbus)',
    },
  };
}

export async function runDoctorChecks(options: DoctorOptions): Promise<DoctorReport> {
  const { root } = options;
  const hypervisor = await checkHypervisor(root);
  if (!hypervisor.isXen) {
    return { isXenDomain: false, checks: [hypervisor.result], problems: 1, explanation: NOT_XEN_EXPLANATION };
  }
  const modulesText = (await readText(root.path('/proc/modules'))) ?? '';
  const loaded = new Set(modulesText.split('\n').map((line) => line.split(' ')[0] ?? ''));

  const checks: CheckResult[] = [hypervisor.result];
  for (const { device, module } of DEVICES) checks.push(await checkModule(root, loaded, module, device));
  for (const { device, module, purpose } of DEVICES) checks.push(await checkDevice(root, device, module, purpose));
  const gntallocMissing = checks.some((c) => c.name === 'module xen_gntalloc' && c.status === 'missing');
  const limit = await checkGntallocLimit(root, gntallocMissing);
  if (limit) checks.push(limit);
  const xenstore = await checkXenstore(options);
  checks.push(xenstore.result);

  const problems = checks.filter((c) => c.status === 'missing').length;
  const explanation =
    problems === 0
      ? 'Everything the real backend needs is here: `xenipc listen`/`connect` and `--backend xen` will work in this domain.'
      : `${problems} thing${problems === 1 ? '' : 's'} missing; run the suggested fixes (as root) and try \`xenipc doctor\` again.`;
  const report: DoctorReport = { isXenDomain: true, checks, problems, explanation, ...(hypervisor.role ? { role: hypervisor.role } : {}) };
  return xenstore.domid === undefined ? report : { ...report, domid: xenstore.domid };
}
