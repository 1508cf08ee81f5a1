/** The XenBackend conformance suite against the real devices, in the rig's dom0. */
import { describeBackendConformance } from '../../conformance/backend-conformance.js';
import { REAL_XEN_CAPABILITIES, realXenHarness } from './real-xen-harness.js';

describeBackendConformance('real Xen, dom0', REAL_XEN_CAPABILITIES, realXenHarness);
