/** The xenstore conformance suite against a REAL xenstored (dom0's socket), inside the rig. */
import { connectXenStore } from '@xenipc/core';
import { describeXenStoreConformance } from '../../conformance/xenstore-conformance.js';

describeXenStoreConformance('real xenstored', () => connectXenStore());
