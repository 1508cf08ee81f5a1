/** A page pattern both domains can compute: byte i of pattern `seed`. Never 0 for small seeds' first bytes. */
export function patternByte(seed: number, index: number): number {
  return (seed * 31 + index * 7 + 1) & 0xff;
}

export function fillPattern(bytes: Uint8Array, seed: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = patternByte(seed, i);
}

/** Index of the first byte that differs from the pattern, or -1 when all match. */
export function firstPatternMismatch(bytes: Uint8Array, seed: number): number {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== patternByte(seed, i)) return i;
  return -1;
}

/** What each side sends on numbered channel i of a multi-channel test: dom0 seeds 2i, the domU 2i+1. */
export function channelPayload(bytes: number, channel: number, fromDom0: boolean): Uint8Array {
  const data = new Uint8Array(bytes);
  fillPattern(data, 2 * channel + (fromDom0 ? 0 : 1));
  return data;
}
