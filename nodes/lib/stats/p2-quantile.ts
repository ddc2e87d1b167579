/**
 * Streaming quantile estimate with the P² algorithm (Jain & Chlamtac, CACM 1985): five markers,
 * O(1) memory and time per value, no stored samples. Exact for the first five values.
 */
export class P2Quantile {
  /** Marker heights q[0..4], positions n[0..4], desired positions d[0..4], in one array for compact state. */
  private readonly m: Float64Array;
  private count = 0;

  constructor(readonly p: number, state?: number[]) {
    if (!(p > 0 && p < 1)) throw new RangeError('quantile must be in (0, 1)');
    this.m = new Float64Array(15);
    if (state && state.length === 16) {
      this.count = state[0];
      this.m.set(state.slice(1));
    }
  }

  get n(): number {
    return this.count;
  }

  push(x: number): void {
    const q = this.m.subarray(0, 5);
    const n = this.m.subarray(5, 10);
    const d = this.m.subarray(10, 15);
    if (this.count < 5) {
      q[this.count++] = x;
      if (this.count === 5) {
        q.sort();
        const p = this.p;
        for (let i = 0; i < 5; i++) n[i] = i;
        d[0] = 0;
        d[1] = 2 * p;
        d[2] = 4 * p;
        d[3] = 2 + 2 * p;
        d[4] = 4;
      }
      return;
    }
    this.count++;
    let k: number;
    if (x < q[0]) {
      q[0] = x;
      k = 0;
    } else if (x >= q[4]) {
      q[4] = x;
      k = 3;
    } else {
      k = 0;
      while (k < 3 && x >= q[k + 1]) k++;
    }
    for (let i = k + 1; i < 5; i++) n[i]++;
    const p = this.p;
    d[1] += p / 2;
    d[2] += p;
    d[3] += (1 + p) / 2;
    d[4] += 1;
    for (let i = 1; i <= 3; i++) {
      const delta = d[i] - n[i];
      if ((delta >= 1 && n[i + 1] - n[i] > 1) || (delta <= -1 && n[i - 1] - n[i] < -1)) {
        const s = Math.sign(delta);
        const parabolic = q[i] + (s / (n[i + 1] - n[i - 1])) * ((n[i] - n[i - 1] + s) * (q[i + 1] - q[i]) / (n[i + 1] - n[i]) + (n[i + 1] - n[i] - s) * (q[i] - q[i - 1]) / (n[i] - n[i - 1]));
        q[i] = q[i - 1] < parabolic && parabolic < q[i + 1] ? parabolic : q[i] + (s * (q[i + s] - q[i])) / (n[i + s] - n[i]);
        n[i] += s;
      }
    }
  }

  /** Current estimate; NaN before any value. */
  get value(): number {
    if (this.count === 0) return NaN;
    if (this.count < 5) {
      const sorted = Array.from(this.m.subarray(0, this.count)).sort((a, b) => a - b);
      const rank = this.p * (sorted.length - 1);
      const lo = Math.floor(rank);
      const hi = Math.ceil(rank);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
    return this.m[2];
  }

  toJSON(): number[] {
    return [this.count, ...this.m];
  }
}
