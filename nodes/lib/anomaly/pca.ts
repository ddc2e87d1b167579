/**
 * Hotelling T² and PCA T² + Q (squared prediction error) on standardised features.
 *
 * Fitted on training vectors z (already standardised per feature): mean μ, covariance S,
 * eigen-decomposition S = P Λ Pᵀ. With the first K components (the fewest that explain
 * `varianceKept` of the variance; K = d for plain Hotelling T²):
 *   t  = P_Kᵀ (z − μ)            scores in the principal subspace
 *   T² = Σ_k t_k² / λ_k          distance inside the subspace of normal variation
 *   Q  = ‖(z − μ) − P_K t‖²       distance from that subspace (new correlation structure)
 * Eigenvalues are floored at `eigenFloor` × λ₁ so a constant or collinear feature cannot blow
 * T² up. Contributions: T² splits exactly into c_j = (z_j − μ_j) · Σ_k P_jk t_k / λ_k
 * (Westerhuis et al. 2000); Q into e_j². Shares use |c_j| and e_j², normalised to 1.
 */
import { symmetricEigen } from './math';

export interface PcaOptions {
  /** Fraction of variance the principal subspace keeps (T² + Q); 1 = all components (Hotelling T²). */
  varianceKept: number;
  /** Eigenvalue floor relative to the largest eigenvalue. */
  eigenFloor: number;
  /**
   * Absolute eigenvalue floor in standardised units (1 = the variance of one feature's raw
   * noise): with smoothed inputs the training covariance is much smaller than the noise, and a
   * direction that barely varied in training would otherwise turn any small drift into a huge T².
   */
  eigenFloorAbs: number;
}

export const DEFAULT_PCA_OPTIONS: PcaOptions = { varianceKept: 0.95, eigenFloor: 1e-6, eigenFloorAbs: 0 };

export interface PcaJSON {
  kind: 'pca';
  dims: number;
  k: number;
  mean: number[];
  /** d × K, row-major. */
  components: number[];
  eigenvalues: number[];
}

export interface PcaStats {
  t2: number;
  q: number;
}

export class PcaModel {
  readonly dims: number;
  readonly k: number;
  private readonly mu: Float64Array;
  private readonly p: Float64Array;
  private readonly lambda: Float64Array;
  private readonly t: Float64Array;
  private readonly c: Float64Array;

  private constructor(dims: number, k: number, mu: Float64Array, p: Float64Array, lambda: Float64Array) {
    this.dims = dims;
    this.k = k;
    this.mu = mu;
    this.p = p;
    this.lambda = lambda;
    this.t = new Float64Array(k);
    this.c = new Float64Array(dims);
  }

  static fit(rows: ArrayLike<number>[], dims: number, options: Partial<PcaOptions> = {}): PcaModel {
    const opts = { ...DEFAULT_PCA_OPTIONS, ...options };
    const n = rows.length;
    if (n < 2) throw new RangeError('pca: needs at least 2 training rows');
    const mu = new Float64Array(dims);
    for (const r of rows) for (let j = 0; j < dims; j++) mu[j] += r[j] / n;
    const cov = Array.from({ length: dims }, () => new Array<number>(dims).fill(0));
    for (const r of rows) {
      for (let i = 0; i < dims; i++) {
        const di = r[i] - mu[i];
        for (let j = i; j < dims; j++) cov[i][j] += di * (r[j] - mu[j]);
      }
    }
    for (let i = 0; i < dims; i++) {
      for (let j = i; j < dims; j++) {
        cov[i][j] /= n - 1;
        cov[j][i] = cov[i][j];
      }
    }
    const { values, vectors } = symmetricEigen(cov);
    const total = values.reduce((a, b) => a + Math.max(0, b), 0);
    let k = dims;
    if (opts.varianceKept < 1 && total > 0) {
      let acc = 0;
      for (k = 0; k < dims; ) {
        acc += Math.max(0, values[k]);
        k++;
        if (acc / total >= opts.varianceKept) break;
      }
    }
    const floor = Math.max(Math.max(values[0], 0) * opts.eigenFloor, opts.eigenFloorAbs, 1e-12);
    const lambda = new Float64Array(k);
    const p = new Float64Array(dims * k);
    for (let c = 0; c < k; c++) {
      lambda[c] = Math.max(values[c], floor);
      for (let j = 0; j < dims; j++) p[j * k + c] = vectors[j][c];
    }
    return new PcaModel(dims, k, mu, p, lambda);
  }

  /** T² and Q of z. */
  stats(z: ArrayLike<number>): PcaStats {
    const { dims, k, mu, p, lambda, t } = this;
    t.fill(0);
    for (let j = 0; j < dims; j++) {
      const d = z[j] - mu[j];
      for (let c = 0; c < k; c++) t[c] += p[j * k + c] * d;
    }
    let t2 = 0;
    for (let c = 0; c < k; c++) t2 += (t[c] * t[c]) / lambda[c];
    let q = 0;
    if (k < dims) {
      for (let j = 0; j < dims; j++) {
        let rec = 0;
        for (let c = 0; c < k; c++) rec += p[j * k + c] * t[c];
        const e = z[j] - mu[j] - rec;
        q += e * e;
      }
    }
    return { t2, q };
  }

  /** Per-feature shares of T² (into `t2Shares`) and of Q (into `qShares`); returns the stats. */
  explain(z: ArrayLike<number>, t2Shares: Float64Array, qShares: Float64Array): PcaStats {
    const { dims, k, mu, p, lambda, t, c: w } = this;
    const s = this.stats(z); // fills t
    for (let c = 0; c < k; c++) w[c] = t[c] / lambda[c];
    let sumT = 0;
    let sumQ = 0;
    for (let j = 0; j < dims; j++) {
      const d = z[j] - mu[j];
      let acc = 0;
      let rec = 0;
      for (let c = 0; c < k; c++) {
        acc += p[j * k + c] * w[c];
        rec += p[j * k + c] * t[c];
      }
      t2Shares[j] = Math.abs(d * acc);
      const e = d - rec;
      qShares[j] = k < dims ? e * e : 0;
      sumT += t2Shares[j];
      sumQ += qShares[j];
    }
    for (let j = 0; j < dims; j++) {
      t2Shares[j] = sumT > 0 ? t2Shares[j] / sumT : 0;
      qShares[j] = sumQ > 0 ? qShares[j] / sumQ : 0;
    }
    return s;
  }

  toJSON(): PcaJSON {
    return { kind: 'pca', dims: this.dims, k: this.k, mean: Array.from(this.mu), components: Array.from(this.p), eigenvalues: Array.from(this.lambda) };
  }

  static fromJSON(json: unknown): PcaModel {
    const j = json as PcaJSON;
    const ok =
      j && j.kind === 'pca' && Number.isInteger(j.dims) && Number.isInteger(j.k) && j.k >= 1 && j.k <= j.dims &&
      Array.isArray(j.mean) && j.mean.length === j.dims && Array.isArray(j.components) && j.components.length === j.dims * j.k &&
      Array.isArray(j.eigenvalues) && j.eigenvalues.length === j.k &&
      [...j.mean, ...j.components, ...j.eigenvalues].every((v) => typeof v === 'number' && Number.isFinite(v)) &&
      j.eigenvalues.every((v) => v > 0);
    if (!ok) throw new Error('model: PCA part is malformed');
    return new PcaModel(j.dims, j.k, Float64Array.from(j.mean), Float64Array.from(j.components), Float64Array.from(j.eigenvalues));
  }
}
