/**
 * A small seeded PRNG (mulberry32): fast, 32-bit state, the same sequence on every platform,
 * so every detector that draws random numbers (isolation forest subsamples and splits) is
 * deterministic for a given seed. Not for cryptography.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = hashSeed(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller), for tests and simulations. */
  normal(): number {
    let u = this.next();
    while (u <= 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** Mixes any finite number into a 32-bit seed, so seeds 1 and 2 give unrelated sequences. */
export function hashSeed(seed: number): number {
  let h = (Number.isFinite(seed) ? Math.floor(seed) : 0) ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
