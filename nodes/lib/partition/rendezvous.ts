/**
 * Rendezvous (highest-random-weight) hashing: every instance draws a pseudo-random score for an
 * asset and the highest score owns it. Adding an instance moves only the assets it now wins
 * (about 1/N of them); removing one moves only its own. The order instances are listed in does not
 * matter, and no shared state or coordination is needed: every instance computes the same answer.
 */
import { hash32 } from '../hash32';

// Re-exported: callers and tests read it as part of the partition API.
export { hash32 };

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
