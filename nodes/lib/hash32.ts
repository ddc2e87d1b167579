/**
 * A small, stable 32-bit string hash shared by the partition owner choice and the simulator's
 * seeded streams: both need the same answer on every platform and in every process.
 */

/** FNV-1a over the UTF-16 code units, then murmur3's finaliser so nearby keys spread over 32 bits. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
