/**
 * The same client behaviour against a REAL xenstored (dom0 socket or /dev/xen/xenbus).
 * Runs only inside a Xen domain; the rig helper runs it under QEMU.
 */
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { connectXenStore } from '@xenipc/core';
import { describeXenStoreBehaviour } from '../../../packages/core/test/xenstore/xenstore-behaviour.js';

const onXen = existsSync('/dev/xen');

if (onXen) {
  describeXenStoreBehaviour('real xenstored', () => connectXenStore());
} else {
  describe('xenstore client against real xenstored', () => {
    it.skip('skipped: /dev/xen does not exist (not running in a Xen domain; the rig helper runs this in real Xen)', () => undefined);
  });
}
