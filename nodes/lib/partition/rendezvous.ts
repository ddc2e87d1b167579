/**
 * Rendezvous (highest-random-weight) hashing: every instance draws a pseudo-random score for an
 * asset and the highest score owns it. Adding an instance moves only the assets it now wins
 * (about 1/N of them); removing one moves only its own. The order instances are listed in does not
 * matter, and no shared state or coordination is needed: every instance computes the same answer.
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

export interface Candidate {
  name: string;
  /** Relative capacity; an instance with weight 2 owns about twice the assets of one with 1. */
  weight: number;
}

/**
 * Weighted rendezvous score (Schindelhauer & Schomaker): -w / ln(u) with u in (0, 1) from the hash.
 * With equal weights this orders instances exactly as u does.
 */
function score(candidate: Candidate, key: string): number {
  const u = (hash32(`${candidate.name}\u0000${key}`) + 0.5) / 4294967296;
  return -candidate.weight / Math.log(u);
}

/** The candidate with the highest score for `key`; ties (vanishingly rare) go to the smaller name. */
export function rendezvousOwner(candidates: readonly Candidate[], key: string): string | undefined {
  let best: string | undefined;
  let bestScore = -Infinity;
  for (const c of candidates) {
    if (!(c.weight > 0)) continue;
    const s = score(c, key);
    if (s > bestScore || (s === bestScore && best !== undefined && c.name < best)) {
      best = c.name;
      bestScore = s;
    }
  }
  return best;
}
