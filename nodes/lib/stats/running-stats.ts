/**
 * Streaming mean and variance (Welford), stable for long runs and cheap to persist.
 */
export interface RunningStatsState {
  n: number;
  mean: number;
  m2: number;
}

export class RunningStats {
  n = 0;
  mean = 0;
  private m2 = 0;

  push(x: number): void {
    this.n++;
    const delta = x - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (x - this.mean);
  }

  /** Sample variance; 0 until two values were seen. */
  get variance(): number {
    return this.n > 1 ? this.m2 / (this.n - 1) : 0;
  }

  get std(): number {
    return Math.sqrt(this.variance);
  }

  toJSON(): RunningStatsState {
    return { n: this.n, mean: this.mean, m2: this.m2 };
  }

  static from(state: RunningStatsState | undefined): RunningStats {
    const stats = new RunningStats();
    if (state && Number.isFinite(state.n) && Number.isFinite(state.mean) && Number.isFinite(state.m2)) {
      stats.n = state.n;
      stats.mean = state.mean;
      stats.m2 = state.m2;
    }
    return stats;
  }
}
