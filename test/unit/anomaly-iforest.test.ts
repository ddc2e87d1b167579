import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsolationForest, averagePathLength } from '../../nodes/lib/anomaly/isolation-forest';
import { Prng } from '../../nodes/lib/anomaly/prng';

const DIMS = 8;
function normals(n: number, seed: number, dims = DIMS): Float64Array {
  const rng = new Prng(seed);
  return Float64Array.from({ length: n * dims }, () => rng.normal());
}
const row = (data: Float64Array, i: number, dims = DIMS) => data.subarray(i * dims, (i + 1) * dims);

test('c(n) follows Liu et al.: c(1)=0, c(2)=1, c(256)≈10.24', () => {
  assert.equal(averagePathLength(1), 0);
  assert.equal(averagePathLength(2), 1);
  assert.ok(Math.abs(averagePathLength(256) - 10.2447) < 1e-3, String(averagePathLength(256)));
});

test('ψ defaults to 256, the height limit is ⌈log2 ψ⌉, and ψ shrinks to small training sets', () => {
  const f = IsolationForest.fit(normals(1000, 1), DIMS, { trees: 10 });
  assert.equal(f.sampleSize, 256);
  assert.equal(f.heightLimit, 8);
  assert.ok(f.nodeCount <= 10 * 511);
  const small = IsolationForest.fit(normals(50, 1), DIMS, { trees: 5 });
  assert.equal(small.sampleSize, 50);
  assert.equal(small.heightLimit, 6);
});

test('determinism: the same seed grows the same forest; another seed another one', () => {
  const data = normals(2000, 3);
  const a = IsolationForest.fit(data, DIMS, { trees: 50, seed: 9 });
  const b = IsolationForest.fit(data, DIMS, { trees: 50, seed: 9 });
  const c = IsolationForest.fit(data, DIMS, { trees: 50, seed: 10 });
  assert.deepEqual(a.toJSON(), b.toJSON());
  const probe = normals(200, 4);
  let differs = 0;
  for (let i = 0; i < 200; i++) {
    assert.equal(a.score(row(probe, i)), b.score(row(probe, i)));
    if (a.score(row(probe, i)) !== c.score(row(probe, i))) differs++;
  }
  assert.ok(differs > 150);
});

test('JSON round trip restores identical scores; a newer format is refused clearly', () => {
  const f = IsolationForest.fit(normals(3000, 5), DIMS, { trees: 100, seed: 1 });
  const json = JSON.parse(JSON.stringify(f.toJSON()));
  const g = IsolationForest.fromJSON(json);
  const probe = normals(500, 6);
  for (let i = 0; i < 500; i++) assert.equal(g.score(row(probe, i)), f.score(row(probe, i)));
  assert.throws(() => IsolationForest.fromJSON({ ...json, format: 99 }), /newer than this version/);
  assert.throws(() => IsolationForest.fromJSON({ ...json, right: { ...json.right, b64: 'AAAA' } }), /bytes|corrupt|match/);
});

test('outliers: all 8 dims at +6σ score far above normal rows', () => {
  const f = IsolationForest.fit(normals(5000, 7), DIMS);
  const probe = normals(2000, 8);
  const normal = Array.from({ length: 2000 }, (_, i) => f.score(row(probe, i))).sort((a, b) => a - b);
  const p999 = normal[Math.floor(0.999 * normal.length)];
  const out = f.score(new Float64Array(DIMS).fill(6));
  assert.ok(out > p999 && out > 0.65, `outlier ${out} vs p99.9 ${p999}`);
  const shares = new Float64Array(DIMS);
  const x = new Float64Array(DIMS);
  x[3] = 8;
  f.explain(x, shares);
  assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.equal(shares.indexOf(Math.max(...shares)), 3, `shares ${Array.from(shares)}`);
});

test('constant features never split; a constant training set gives leaves at the root', () => {
  const data = new Float64Array(300 * 2);
  for (let i = 0; i < 300; i++) data[i * 2] = i % 10;
  const f = IsolationForest.fit(data, 2, { trees: 5 });
  assert.ok(Number.isFinite(f.score([5, 0])));
  const flat = IsolationForest.fit(new Float64Array(100 * 3), 3, { trees: 3 });
  assert.equal(flat.nodeCount, 3);
});
