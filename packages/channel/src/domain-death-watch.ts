/**
 * Whole-domain death: when a domain dies nothing of it runs, so no unmap-notify clears its live
 * byte and a survivor would wait forever (libxenvchan has no answer; Qubes polls). What a
 * survivor can see depends on who it is. Read in Xen's sources at tag RELEASE-4.17.0
 * (github.com/xen-project/xen), C xenstored (the one Debian's xen-utils-4.17 and our rig run):
 *
 * - @releaseDomain. Any domain may WATCH it (tools/xenstore/xenstored_watch.c:191,
 *   check_watch_path accepts any "@" name) and gets the one event every new watch fires
 *   (xenstored_watch.c:277). Later events go only to connections with read access to the special
 *   node's permissions (xenstored_watch.c:157-158 -> check_perms_special,
 *   xenstored_domain.c:879-888), which are "n0" (xenstored_domain.c:837-847 and 944): dom0 and
 *   privileged domains hear domains die (destroy_domain fires it, xenstored_domain.c:331); a domU
 *   never does, unless dom0 runs `xenstore-chmod @releaseDomain n0 r<domU>` (set_perms_special,
 *   xenstored_domain.c:858-877). oxenstored checks the same permissions (connection.ml:343-346).
 * - /local/domain/<peer>. Its permissions are "n0 r<peer>" (tools/libs/light/libxl_create.c:
 *   787-799) and /local/domain inherits "n0" from "/" (xenstored_core.c:2324-2328). A domU reading
 *   it gets EACCES while it exists (get_node, xenstored_core.c:969-974) AND after the toolstack
 *   removed it (libxl_domain.c:1537): a missing node answers EACCES when the nearest existing
 *   ancestor is unreadable (errno_from_parents, xenstored_core.c:936-951). oxenstored answers
 *   ENOENT for any missing node (store.ml:187-194). So: ENOENT = gone, EACCES = cannot tell.
 *   A domU's WATCH on it never fires either: an event needs read access to the node or its
 *   parent (watch_permitted, xenstored_watch.c:93-131; rm fires per removed node, with that
 *   node's permissions, xenstored_core.c:1631-1656 delnode_sub).
 * - Nodes under the peer's home that the PEER made readable to us (e.g. a vchan rendezvous key,
 *   "n<peer> r<us>"): when the toolstack removes the home, each one fires our exact watch on it
 *   (delnode_sub, above); reading it afterwards answers EACCES (cxenstored) or ENOENT
 *   (oxenstored). That is the only xenstore event a domU can get, and only from a cooperating peer.
 * - The event channel. Xen closes the dead domain's ports (evtchn_destroy,
 *   xen/common/event_channel.c:1530-1545); our end of an interdomain channel falls back to
 *   ECS_UNBOUND (event_channel.c:748-749) WITHOUT any event, and notifying it is silently dropped
 *   (event_channel.c:821-823). EVTCHNOP_status would say 'unbound', but Linux's /dev/xen/evtchn
 *   has no status ioctl (our real backend answers 'unknown'); it would take a privcmd hypercall,
 *   which Linux refuses a domU ("No target domain found, blocking all hypercalls").
 * - Xen itself, which any domain may ask. XenBackend.probeDomain: EVTCHNOP_bind_interdomain looks
 *   the remote domain up before anything else and answers ESRCH when there is none
 *   (event_channel.c, evtchn_bind_interdomain); asked for port 0, which is reserved in every
 *   domain, it can never bind, so it has no side effect. But a destroyed domain stays known
 *   (dying) while another domain still maps its pages, so this serves a vchan SERVER (its client
 *   maps the server's pages, not the other way round). ForeignMapping.probeOwner: a 1-byte grant
 *   copy from a page we map fails with GNTST_bad_domain as soon as its owner is destroyed, while
 *   the mapping itself stays valid; this serves a vchan CLIENT. Both seen on Xen 4.17 in the rig
 *   (test/xen/cross-domain/domu-peer-death.xen.test.ts).
 *
 * So: connections that can see @releaseDomain (dom0, privileged domains) keep ONE watch on it per
 * xenstore connection, shared by all its channels (xenstored caps watches per domain) -- event
 * driven, an idle channel costs nothing. A connection that cannot (a domU: it may not list
 * /local/domain, which is "n0" like @releaseDomain) also polls: every DOMU_DEATH_POLL_MS each
 * channel re-checks its port status (and xenstore), the only signals a domU has without its peer's
 * help (at most DOMU_DEATH_CHECKS_PER_POLL checks per period on average, so 1,000 channels cost
 * 64 status requests a second, not 1,000). The simulated host answers port status like EVTCHNOP_status; where it is 'unknown' (Linux),
 * xenstore and then Xen are asked (VchanEndpoint.peerDomainVanished, peerHomeState() below): a
 * domU sees a dead peer within about one poll period either way.
 */
import { type DomId, XenError, type XenStore, type XsWatchEvent } from '@xenipc/core';

type Check = () => void;

/** How often a connection that cannot hear @releaseDomain re-checks its channels' peers (ms). */
export const DOMU_DEATH_POLL_MS = 1000;
/** At most this many checks per DOMU_DEATH_POLL_MS on average: with more channels, polls space out. */
export const DOMU_DEATH_CHECKS_PER_POLL = 64;

interface Registration {
  token: string;
  checks: Set<Check>;
  listener: (e: XsWatchEvent) => void;
  onClose: () => void;
  ready: Promise<void>;
  poll: NodeJS.Timeout | undefined;
  stopped: boolean;
}

const registrations = new WeakMap<XenStore, Registration>();
let nextToken = 1;

function runChecks(reg: Registration): void {
  for (const c of [...reg.checks]) c();
}

function stopPolling(reg: Registration): void {
  reg.stopped = true;
  clearTimeout(reg.poll);
  reg.poll = undefined;
}

/** Each check costs a port-status request (and maybe a xenstore read): bound the rate. */
function schedulePoll(reg: Registration): void {
  if (reg.stopped) return;
  const delay = DOMU_DEATH_POLL_MS * Math.max(1, Math.ceil(reg.checks.size / DOMU_DEATH_CHECKS_PER_POLL));
  reg.poll = setTimeout(() => {
    runChecks(reg);
    schedulePoll(reg);
  }, delay);
  reg.poll.unref(); // never what keeps a process alive
}

/**
 * True if this connection hears @releaseDomain with xenstored's default permissions: it may list
 * /local/domain ("n0" like @releaseDomain itself). Any failure counts as "no" (then we poll).
 */
async function hearsReleaseDomain(xs: XenStore): Promise<boolean> {
  return xs.directory('/local/domain').then(
    () => true,
    () => false,
  );
}

/**
 * Call `check` whenever some domain may have died: on @releaseDomain, and, on a connection that
 * cannot hear it, every DOMU_DEATH_POLL_MS. Returns the unsubscribe function.
 */
export async function onDomainReleased(xs: XenStore, check: Check): Promise<() => Promise<void>> {
  let reg = registrations.get(xs);
  if (reg === undefined) {
    const token = `xenipc-release-${process.pid}-${nextToken++}`;
    const checks = new Set<Check>();
    const created: Registration = {
      token,
      checks,
      listener: (e: XsWatchEvent): void => {
        if (e.token === token) runChecks(created);
      },
      onClose: () => stopPolling(created),
      ready: xs.watch('@releaseDomain', token),
      poll: undefined,
      stopped: false,
    };
    reg = created;
    registrations.set(xs, created);
    xs.on('watch', created.listener);
    xs.once('close', created.onClose);
    created.ready.catch(() => {
      // Without the watch only the poll below (if any) and unmap-notify remain.
    });
    void hearsReleaseDomain(xs).then((hears) => {
      if (!hears && created.checks.size > 0) schedulePoll(created);
    });
  }
  const current = reg;
  current.checks.add(check);
  await current.ready.catch(() => undefined);
  return async () => {
    current.checks.delete(check);
    if (current.checks.size > 0 || registrations.get(xs) !== current) return;
    registrations.delete(xs);
    stopPolling(current);
    xs.off('watch', current.listener);
    xs.off('close', current.onClose);
    await current.ready.then(() => xs.unwatch('@releaseDomain', current.token)).catch(() => undefined);
  };
}

/** What a read of /local/domain/<peer> proves: see the top of this file. */
export type PeerHomeState = 'present' | 'absent' | 'unknown';

/**
 * Ask xenstore whether `peer`'s home exists, robust to what real xenstored answers: a successful
 * read proves it exists; ENOENT proves it is gone (C xenstored only says ENOENT to a caller that
 * may read the nearest existing ancestor, oxenstored for any missing node); EACCES proves nothing
 * (a domU gets it from C xenstored for a home that exists and for one that is gone), nor does any
 * other failure.
 */
export async function peerHomeState(xs: XenStore, peer: DomId): Promise<PeerHomeState> {
  try {
    await xs.read(`/local/domain/${peer}`);
    return 'present';
  } catch (err) {
    return XenError.is(err, 'ENOENT') ? 'absent' : 'unknown';
  }
}
