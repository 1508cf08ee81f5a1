/** The XenBackend conformance suite on the real devices, in dom0 of the rig. */
import { describeBackendConformance } from '../../conformance/backend-conformance.js';
import { REAL_XEN_CAPABILITIES, realXenHarness } from './real-xen-harness.js';

describeBackendConformance('real Xen, dom0', REAL_XEN_CAPABILITIES, () => Promise.resolve(realXenHarness()));
