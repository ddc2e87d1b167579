/**
 * A small seeded pseudo-random generator (sfc32, seeded through a 32-bit string hash), so the same
 * seed and configuration always give the same plant, on every platform: no Math.random anywhere in
 * the simulator.
 *
 * Streams are named: each asset draws its schedule, its measurement noise and its sensor faults
 * from separate streams keyed by (seed, asset id, purpose), so adding an asset or a fault does
 * not change what the other assets do.
 */
import { hash32 } from '../hash32';

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** The second value of the last Box–Muller pair, if unused. */
  private spare: number | undefined;

  /** A stream for `seed` and the given key parts, e.g. `new Rng(42, 'P-101', 'noise')`. */
  constructor(seed: number, ...key: string[]) {
    const text = `${seed}\u0000${key.join('\u0000')}`;
    this.a = hash32(`a${text}`);
    this.b = hash32(`b${text}`);
    this.c = hash32(`c${text}`);
    this.d = hash32(`d${text}`) | 1;
    // Warm up: the first outputs of a freshly seeded sfc32 are correlated with the seed.
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    const t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    const r = (t + this.d) | 0;
    this.c = (this.c + r) | 0;
    return (r >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** True with probability p. Always draws once, so the stream stays aligned whatever p is. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = this.next();
    while (u <= Number.EPSILON) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
