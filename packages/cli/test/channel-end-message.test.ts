/** Why a channel ended, in the user's words: host death is named as such, per backend. */
import { describe, expect, it } from 'vitest';
import { channelEndMessage } from '../src/channel-end-message.js';

describe('channelEndMessage', () => {
  it("maps the library's 'host-gone' per backend", () => {
    expect(channelEndMessage('host-gone', 'sim')).toBe('the simulated host went away');
    expect(channelEndMessage('host-gone', 'xen')).toMatch(/^xenstore connection lost/);
  });

  it('names the host when the command saw its own host connection fail, whatever the channel blamed', () => {
    expect(channelEndMessage('domain-gone', 'sim', true)).toBe('the simulated host went away');
    expect(channelEndMessage('peer-crashed', 'xen', true)).toMatch(/^xenstore connection lost/);
  });

  it("keeps the library's wording otherwise", () => {
    expect(channelEndMessage('domain-gone', 'sim')).toBe('the peer domain no longer exists');
    expect(channelEndMessage('peer-crashed', 'sim')).toMatch(/^the peer process died/);
    expect(channelEndMessage('peer-closed', 'xen', true)).toBe('the peer closed the channel');
  });
});
