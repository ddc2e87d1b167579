/**
 * Isolation forest (Liu, Ting & Zhou, ICDM 2008), written for this package because
 * ml-isolation-forest 0.1.0 does not subsample, has no seed and serialises to 168 MB
 * (shared/reference/toolchain.md §7).
 *
 * - Each tree is grown on a subsample of ψ rows drawn without replacement (default 256), to the
 *   height limit ⌈log2 ψ⌉; a node splits on a feature drawn at random (features constant in the
 *   node are skipped: drawn without replacement until one varies), at a value drawn uniformly
 *   between that feature's min and max there.
 * - Path length h(x) = depth of the leaf + c(size of the leaf), with
 *   c(n) = 2·H(n−1) − 2(n−1)/n, H(i) = ln i + γ (the average path of an unsuccessful BST search).
 * - Score s(x) = 2^(−E[h(x)] / c(ψ)) ∈ (0, 1]: near 1 anomalous, below 0.5 normal.
 * - Deterministic: a seeded PRNG draws subsamples and splits, so a seed gives the same forest.
 * - Flattened trees in typed arrays, pre-order: the left child of node i is i + 1, the right child
 *   is `right[i]`; `feature[i]` is −1 at a leaf, where `value[i]` holds depth + c(size) (the leaf's
 *   path length with its correction, computed once at training); `size[i]` is the number of
 *   subsample rows that reached the node (for explanations). This is the JSON layout (format 1).
 * - Scoring walks a second layout derived from it on load (never stored, so format 1 models from
 *   any version load unchanged): `walkFeature` (Int32Array), `walkValue` (Float64Array: the split,
 *   or at a leaf its path length) and `walkChild` (Int32Array, two per node: [2i] when x ≥ split
 *   or NaN, [2i + 1] when x < split). A leaf's two children are itself, so every walk takes
 *   exactly `walkSteps` (the deepest leaf, ≤ ⌈log2 ψ⌉) steps, and a step is
 *   `node = walkChild[2·node + (x[f] < split)]` with no branch on the data: the CPU never
 *   mispredicts, and eight trees are walked side by side so their memory loads overlap. Sums run
 *   in tree order, so scores are bit-identical to the plain pre-order walk (`pathLength`).
 * - Versioned JSON with the arrays as base64: 100 trees on ψ = 256 export in about 300 kB.
 */
import { Prng } from './prng';
import { decodeArray, encodeArray, type EncodedArray } from './codec';

export const IFOREST_FORMAT = 1;

export interface IsolationForestOptions {
  /** Number of trees (default 100). */
  trees: number;
  /** Subsample size ψ (default 256; the training size if smaller). */
  sampleSize: number;
  /** PRNG seed (default 1). */
  seed: number;
}

export const DEFAULT_IFOREST_OPTIONS: IsolationForestOptions = { trees: 100, sampleSize: 256, seed: 1 };

const EULER_GAMMA = 0.5772156649015329;

/** Average path length of an unsuccessful search in a BST of n nodes (Liu et al., eq. 1). */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

export interface IsolationForestJSON {
  kind: 'isolation-forest';
  format: number;
  dims: number;
  trees: number;
  sampleSize: number;
  heightLimit: number;
  seed: number;
  roots: EncodedArray;
  feature: EncodedArray;
  value: EncodedArray;
  right: EncodedArray;
  size: EncodedArray;
}

export class IsolationForest {
  readonly dims: number;
  readonly trees: number;
  readonly sampleSize: number;
  readonly heightLimit: number;
  readonly seed: number;
  private readonly roots: Int32Array;
  private readonly feature: Int16Array;
  /** Split value at an internal node; depth + c(size) at a leaf. */
  private readonly value: Float64Array;
  private readonly right: Int32Array;
  private readonly size: Int32Array;
  private readonly cPsi: number;
  /** Scoring layout (see the file comment): split feature, 0 at a leaf. */
  private readonly walkFeature: Int32Array;
  /** Split value; at a leaf depth + c(size). */
  private readonly walkValue: Float64Array;
  /** Two children per node: [2i] for x ≥ split (or NaN), [2i + 1] for x < split; a leaf points to itself. */
  private readonly walkChild: Int32Array;
  /** Steps of every walk: the depth of the deepest leaf. */
  private readonly walkSteps: number;
  /** Per walkChild entry, the bits of isolation that step cuts: log2(rows at the node / rows in that child); 0 at a leaf. */
  private readonly walkGain: Float64Array;

  private constructor(dims: number, trees: number, sampleSize: number, heightLimit: number, seed: number, roots: Int32Array, feature: Int16Array, value: Float64Array, right: Int32Array, size: Int32Array) {
    this.dims = dims;
    this.trees = trees;
    this.sampleSize = sampleSize;
    this.heightLimit = heightLimit;
    this.seed = seed;
    this.roots = roots;
    this.feature = feature;
    this.value = value;
    this.right = right;
    this.size = size;
    this.cPsi = averagePathLength(sampleSize);
    const n = feature.length;
    this.walkFeature = new Int32Array(n);
    this.walkValue = Float64Array.from(value);
    this.walkChild = new Int32Array(2 * n);
    this.walkGain = new Float64Array(2 * n);
    const bits = (from: number, to: number) => (size[to] > 0 ? Math.log2(size[from]) - Math.log2(size[to]) : 0);
    // Depth of every node reachable from a root; children always follow their parent (pre-order).
    const depth = new Int32Array(n).fill(-1);
    for (let t = 0; t < roots.length; t++) depth[roots[t]] = 0;
    let steps = 0;
    for (let i = 0; i < n; i++) {
      if (feature[i] >= 0) {
        this.walkFeature[i] = feature[i];
        this.walkChild[2 * i] = right[i];
        this.walkChild[2 * i + 1] = i + 1;
        this.walkGain[2 * i] = bits(i, right[i]);
        this.walkGain[2 * i + 1] = bits(i, i + 1);
        if (depth[i] >= 0) {
          depth[i + 1] = Math.max(depth[i + 1], depth[i] + 1);
          depth[right[i]] = Math.max(depth[right[i]], depth[i] + 1);
        }
      } else {
        this.walkChild[2 * i] = i;
        this.walkChild[2 * i + 1] = i;
        if (depth[i] > steps) steps = depth[i];
      }
    }
    this.walkSteps = steps;
  }

  /** Grows a forest on `rows` (n × dims, row-major in one Float64Array, or an array of rows). */
  static fit(data: Float64Array | ArrayLike<number>[], dims: number, options: Partial<IsolationForestOptions> = {}): IsolationForest {
    const opts = { ...DEFAULT_IFOREST_OPTIONS, ...options };
    if (!(dims >= 1 && dims <= 32767)) throw new RangeError('isolation forest: dims must be 1..32767');
    const x = data instanceof Float64Array ? data : flatten(data, dims);
    const n = Math.floor(x.length / dims);
    if (n < 2) throw new RangeError('isolation forest: needs at least 2 training rows');
    if (!(opts.trees >= 1)) throw new RangeError('isolation forest: trees must be ≥ 1');
    const psi = Math.max(2, Math.min(Math.floor(opts.sampleSize), n));
    const heightLimit = Math.ceil(Math.log2(psi));
    const rng = new Prng(opts.seed);
    // A full binary tree of height L has at most 2^(L+1) − 1 nodes.
    const maxNodes = 2 ** (heightLimit + 1) - 1;
    const capacity = opts.trees * maxNodes;
    const feature = new Int16Array(capacity);
    const value = new Float64Array(capacity);
    const right = new Int32Array(capacity);
    const sizes = new Int32Array(capacity);
    const roots = new Int32Array(opts.trees);
    const pool = new Int32Array(n);
    for (let i = 0; i < n; i++) pool[i] = i;
    const idx = new Int32Array(psi);
    let next = 0;

    const order = new Int32Array(dims);
    const build = (start: number, end: number, depth: number): number => {
      const node = next++;
      const size = end - start;
      sizes[node] = size;
      // Liu et al.: pick an attribute at random and split between its min and max at the node.
      // A constant attribute cannot split, so attributes are drawn without replacement until one can.
      let f = -1;
      let fLo = 0;
      let fHi = 0;
      if (depth < heightLimit && size > 1) {
        for (let k = 0; k < dims; k++) order[k] = k;
        for (let k = 0; k < dims && f < 0; k++) {
          const r = k + rng.int(dims - k);
          const cand = order[r];
          order[r] = order[k];
          order[k] = cand;
          let lo = Infinity;
          let hi = -Infinity;
          for (let i = start; i < end; i++) {
            const v = x[idx[i] * dims + cand];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
          if (hi > lo) {
            f = cand;
            fLo = lo;
            fHi = hi;
          }
        }
      }
      if (f < 0) {
        feature[node] = -1;
        value[node] = depth + averagePathLength(size);
        right[node] = -1;
        return node;
      }
      let split = fLo + rng.next() * (fHi - fLo);
      if (!(split > fLo)) split = fLo + (fHi - fLo) / 2; // keep both sides non-empty
      // Partition idx[start, end) so rows with x < split come first.
      let i = start;
      let j = end - 1;
      while (i <= j) {
        if (x[idx[i] * dims + f] < split) i++;
        else {
          const t = idx[i];
          idx[i] = idx[j];
          idx[j] = t;
          j--;
        }
      }
      feature[node] = f;
      value[node] = split;
      build(start, i, depth + 1);
      right[node] = build(i, end, depth + 1);
      return node;
    };

    for (let t = 0; t < opts.trees; t++) {
      // Subsample without replacement: a partial Fisher–Yates shuffle of the row pool.
      for (let k = 0; k < psi; k++) {
        const r = k + rng.int(n - k);
        const tmp = pool[k];
        pool[k] = pool[r];
        pool[r] = tmp;
        idx[k] = pool[k];
      }
      roots[t] = build(0, psi, 0);
    }
    return new IsolationForest(dims, opts.trees, psi, heightLimit, opts.seed, roots, feature.slice(0, next), value.slice(0, next), right.slice(0, next), sizes.slice(0, next));
  }

  /** Mean path length E[h(x)] over the trees: the plain pre-order walk (the reference for the fast one). */
  pathLength(x: ArrayLike<number>): number {
    const { roots, feature, value, right } = this;
    let total = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t];
      let f = feature[node];
      while (f >= 0) {
        node = x[f] < value[node] ? node + 1 : right[node];
        f = feature[node];
      }
      total += value[node];
    }
    return total / roots.length;
  }

  /** Sum of the path lengths of x (a vector, or the row at `base` of a row-major array) over all trees, in tree order. */
  private pathSum(x: ArrayLike<number>, base: number): number {
    const { roots, walkFeature: f, walkValue: v, walkChild: c, walkSteps: steps } = this;
    const trees = roots.length;
    let total = 0;
    let t = 0;
    // Eight independent walks at once: their loads overlap instead of waiting on each other.
    for (; t + 8 <= trees; t += 8) {
      let a = roots[t], b = roots[t + 1], d = roots[t + 2], e = roots[t + 3];
      let g = roots[t + 4], h = roots[t + 5], k = roots[t + 6], m = roots[t + 7];
      for (let s = 0; s < steps; s++) {
        a = c[2 * a + +(x[base + f[a]] < v[a])];
        b = c[2 * b + +(x[base + f[b]] < v[b])];
        d = c[2 * d + +(x[base + f[d]] < v[d])];
        e = c[2 * e + +(x[base + f[e]] < v[e])];
        g = c[2 * g + +(x[base + f[g]] < v[g])];
        h = c[2 * h + +(x[base + f[h]] < v[h])];
        k = c[2 * k + +(x[base + f[k]] < v[k])];
        m = c[2 * m + +(x[base + f[m]] < v[m])];
      }
      total += v[a];
      total += v[b];
      total += v[d];
      total += v[e];
      total += v[g];
      total += v[h];
      total += v[k];
      total += v[m];
    }
    for (; t < trees; t++) {
      let a = roots[t];
      for (let s = 0; s < steps; s++) a = c[2 * a + +(x[base + f[a]] < v[a])];
      total += v[a];
    }
    return total;
  }

  /** Anomaly score s(x) = 2^(−E[h(x)] / c(ψ)); allocates nothing. */
  score(x: ArrayLike<number>): number {
    return Math.pow(2, -(this.pathSum(x, 0) / this.roots.length) / this.cPsi);
  }

  /**
   * Scores n row-major vectors (`data[i·dims + j]`) into `out`: the same numbers as score(),
   * bit for bit, with no allocation when `out` is given.
   */
  scoreBatch(data: ArrayLike<number>, n: number, out: Float64Array = new Float64Array(n)): Float64Array {
    if (!(n >= 0 && n * this.dims <= data.length && n <= out.length)) throw new RangeError('isolation forest: scoreBatch needs n × dims values and n outputs');
    const trees = this.roots.length;
    for (let i = 0, base = 0; i < n; i++, base += this.dims) out[i] = Math.pow(2, -(this.pathSum(data, base) / trees) / this.cPsi);
    return out;
  }

  /**
   * Score plus per-feature shares of the isolation: every split on the path to x's leaf credits
   * its feature with the information it cut away, log2(rows at the node / rows in the child x
   * went to), summed over the trees. A split that leaves x nearly alone (an outlying value)
   * weighs many bits; a split through the middle of normal data about one. Shares sum to 1.
   */
  explain(x: ArrayLike<number>, shares: Float64Array): number {
    const { roots, walkFeature: f, walkValue: v, walkChild: c, walkGain: gain, walkSteps: steps } = this;
    shares.fill(0);
    const trees = roots.length;
    let total = 0;
    let t = 0;
    // Four walks side by side, as in pathSum; the score's sum keeps tree order (identical score).
    for (; t + 4 <= trees; t += 4) {
      let a = roots[t], b = roots[t + 1], d = roots[t + 2], e = roots[t + 3];
      for (let s = 0; s < steps; s++) {
        const ka = 2 * a + +(x[f[a]] < v[a]);
        const kb = 2 * b + +(x[f[b]] < v[b]);
        const kd = 2 * d + +(x[f[d]] < v[d]);
        const ke = 2 * e + +(x[f[e]] < v[e]);
        shares[f[a]] += gain[ka]; // 0 at a leaf
        shares[f[b]] += gain[kb];
        shares[f[d]] += gain[kd];
        shares[f[e]] += gain[ke];
        a = c[ka];
        b = c[kb];
        d = c[kd];
        e = c[ke];
      }
      total += v[a];
      total += v[b];
      total += v[d];
      total += v[e];
    }
    for (; t < trees; t++) {
      let a = roots[t];
      for (let s = 0; s < steps; s++) {
        const k = 2 * a + +(x[f[a]] < v[a]);
        shares[f[a]] += gain[k];
        a = c[k];
      }
      total += v[a];
    }
    let sum = 0;
    for (let j = 0; j < shares.length; j++) sum += shares[j];
    if (sum > 0) for (let j = 0; j < shares.length; j++) shares[j] /= sum;
    return Math.pow(2, -(total / roots.length) / this.cPsi);
  }

  get nodeCount(): number {
    return this.feature.length;
  }

  toJSON(): IsolationForestJSON {
    return {
      kind: 'isolation-forest',
      format: IFOREST_FORMAT,
      dims: this.dims,
      trees: this.trees,
      sampleSize: this.sampleSize,
      heightLimit: this.heightLimit,
      seed: this.seed,
      roots: encodeArray(this.roots),
      feature: encodeArray(this.feature),
      value: encodeArray(this.value),
      right: encodeArray(this.right),
      size: encodeArray(this.size),
    };
  }

  static fromJSON(json: unknown): IsolationForest {
    const j = json as IsolationForestJSON;
    if (!j || typeof j !== 'object' || j.kind !== 'isolation-forest') throw new Error('model: not an isolation forest');
    if (typeof j.format !== 'number' || j.format > IFOREST_FORMAT) {
      throw new Error(`model: isolation forest format ${String(j.format)} is newer than this version understands (${IFOREST_FORMAT}); update @pdm-twin/node-red-pdm`);
    }
    const roots = decodeArray(j.roots, 'i32', 'roots');
    const feature = decodeArray(j.feature, 'i16', 'feature');
    const value = decodeArray(j.value, 'f64', 'value');
    const right = decodeArray(j.right, 'i32', 'right');
    const size = decodeArray(j.size, 'i32', 'size');
    const n = feature.length;
    if (value.length !== n || right.length !== n || size.length !== n || roots.length !== j.trees) throw new Error('model: isolation forest arrays do not match');
    for (let i = 0; i < n; i++) {
      if (feature[i] >= j.dims || (feature[i] >= 0 && !(right[i] > i && right[i] < n))) throw new Error('model: isolation forest tree is corrupt');
    }
    for (let t = 0; t < roots.length; t++) if (!(roots[t] >= 0 && roots[t] < n)) throw new Error('model: isolation forest root is corrupt');
    return new IsolationForest(j.dims, j.trees, j.sampleSize, j.heightLimit, j.seed, roots, feature, value, right, size);
  }
}

function flatten(rows: ArrayLike<number>[], dims: number): Float64Array {
  const out = new Float64Array(rows.length * dims);
  rows.forEach((row, i) => {
    if (row.length !== dims) throw new RangeError(`isolation forest: row ${i} has ${row.length} values, expected ${dims}`);
    for (let f = 0; f < dims; f++) out[i * dims + f] = row[f];
  });
  return out;
}
