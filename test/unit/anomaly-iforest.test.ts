import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsolationForest, averagePathLength } from '../../nodes/lib/anomaly/isolation-forest';
import { Prng } from '../../nodes/lib/anomaly/prng';
import { decodeArray } from '../../nodes/lib/anomaly/codec';

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

test('fast scoring is bit-identical to the plain pre-order walk, one vector or a batch, NaN included', () => {
  const f = IsolationForest.fit(normals(4000, 21), DIMS, { trees: 100, seed: 3 });
  const n = 3000;
  const probe = normals(n, 22);
  for (let i = 0; i < n; i += 97) probe[i] = NaN; // NaN goes right, as in the reference walk
  probe.fill(7, 8 * DIMS, 9 * DIMS);
  const batch = f.scoreBatch(probe, n);
  const out = new Float64Array(n + 5).fill(-1);
  assert.equal(f.scoreBatch(probe, n, out), out);
  assert.equal(out[n], -1, 'writes only n outputs');
  for (let i = 0; i < n; i++) {
    const reference = Math.pow(2, -f.pathLength(row(probe, i)) / averagePathLength(f.sampleSize));
    assert.equal(f.score(row(probe, i)), reference, `row ${i}`);
    assert.equal(batch[i], reference, `batch row ${i}`);
    assert.equal(out[i], reference);
  }
  // A forest whose tree count is not a multiple of the eight walked side by side.
  const odd = IsolationForest.fit(normals(500, 23), DIMS, { trees: 13, seed: 4 });
  for (let i = 0; i < 200; i++) assert.equal(odd.score(row(probe, i)), Math.pow(2, -odd.pathLength(row(probe, i)) / averagePathLength(odd.sampleSize)));
  assert.throws(() => f.scoreBatch(probe, n + 1), /n × dims/);
});

// Written by the version before the fast scoring layout (pre-order walk): its models must load and score the same.
const FORMAT1_MODEL = "{\"kind\":\"isolation-forest\",\"format\":1,\"dims\":3,\"trees\":4,\"sampleSize\":16,\"heightLimit\":4,\"seed\":5,\"roots\":{\"dtype\":\"i32\",\"length\":4,\"b64\":\"AAAAAA0AAAAiAAAAMwAAAA==\"},\"feature\":{\"dtype\":\"i16\",\"length\":72,\"b64\":\"AgABAP////8BAAAAAQD/////AQD///////8CAAEAAgACAP////8AAP////8AAAIA/////wIA/////wAA//8CAP////8BAAAAAAD///////8CAAEAAAD/////AAD/////AQD/////AgAAAAAA/////wIAAgD/////AgD/////AQD//wAAAgD/////AgD/////\"},\"value\":{\"dtype\":\"f64\",\"length\":72,\"b64\":\"DVcip4E26b+oqeeYtLrhvwAAAAAAAABAAAAAAAAAAEBY45T+Zw/xPygaC4xkA/K/ua6Z1boq8b8AAAAAAAAQQAAAAAAAABBAS/79JxS4A8AAAAAAAAAQQF69lYba/h5AAAAAAAAAAEDKMP5xmfXdP/zwYxuBG9Q/GE79Yb3Huz9gGam5F4eVv60mhale1BRAAAAAAAAAFEAb8yeg2kvdPwAAAAAAABRAAAAAAAAAEED9Ze9704Trv17h1YIh6Mo/AAAAAAAAEEAAAAAAAAAQQEAS1vVrEOG/AAAAAAAAEEAAAAAAAAAUQPRxR0+HpvW/AAAAAAAAAED4Qm1vdEn4PwAAAAAAAAhAAAAAAAAACED/vQWNMl31v7q/PxQE49I/LAVdNyKi478AAAAAAAAIQAAAAAAAAAhAAAAAAAAAAECG2b9H1qbqP5biECnXDe8/r1wB5Vpd8j/Qj1WFOxgcQAAAAAAAABBAcPbg0EtWsL8AAAAAAAAUQAAAAAAAABBA4jXdUXLl7D8AAAAAAAAIQAAAAAAAAAhAUM4iV++StL9sVntE8S/wvzellq2cG/e/AAAAAAAACEAAAAAAAAAIQEKJy/8O1+C/3AS/AxOx7r8AAAAAAAAQQAAAAAAAABBATLEi15Ox078AAAAAAAAUQAAAAAAAABBAYIeN0Vqg7L8AAAAAAAAAQEjo0M3rePe/m3iwg/LM8T8AAAAAAAAQQAAAAAAAABBAuOA75l1+4T8AAAAAAAAQQBikMljeThlA\"},\"right\":{\"dtype\":\"i32\",\"length\":72,\"b64\":\"BAAAAAMAAAD//////////wwAAAAJAAAACAAAAP//////////CwAAAP///////////////x0AAAAWAAAAEwAAABIAAAD//////////xUAAAD//////////xoAAAAZAAAA//////////8cAAAA//////////8fAAAA/////yEAAAD//////////ygAAAAnAAAAJgAAAP///////////////zAAAAAtAAAALAAAAP//////////LwAAAP//////////MgAAAP//////////PwAAADgAAAA3AAAA//////////88AAAAOwAAAP//////////PgAAAP//////////QQAAAP////9FAAAARAAAAP//////////RwAAAP//////////\"},\"size\":{\"dtype\":\"i32\",\"length\":72,\"b64\":\"EAAAAAIAAAABAAAAAQAAAA4AAAANAAAAAgAAAAEAAAABAAAACwAAAAEAAAAKAAAAAQAAABAAAAANAAAACAAAAAUAAAADAAAAAgAAAAMAAAACAAAAAQAAAAUAAAACAAAAAQAAAAEAAAADAAAAAQAAAAIAAAADAAAAAQAAAAIAAAABAAAAAQAAABAAAAADAAAAAgAAAAEAAAABAAAAAQAAAA0AAAALAAAACAAAAAcAAAABAAAAAwAAAAIAAAABAAAAAgAAAAEAAAABAAAAEAAAAAcAAAACAAAAAQAAAAEAAAAFAAAAAgAAAAEAAAABAAAAAwAAAAIAAAABAAAACQAAAAEAAAAIAAAAAgAAAAEAAAABAAAABgAAAAEAAAAFAAAA\"}}";
const FORMAT1_SCORES = [0.41589741643561623,0.5802467878630084,0.5335236912422372,0.4766878529303793];

test('a format 1 model exported before the fast layout loads and gives the very same scores', () => {
  const f = IsolationForest.fromJSON(JSON.parse(FORMAT1_MODEL));
  const probes = [[0, 0, 0], [3, -2, 1], [-6, 0, 0.5], [0.1, 0.2, NaN]];
  assert.deepEqual(probes.map((p) => f.score(p)), FORMAT1_SCORES);
  assert.deepEqual(JSON.stringify(f.toJSON()), FORMAT1_MODEL, 'exports the same JSON');
  const again = IsolationForest.fit(seeded64x3(), 3, { trees: 4, sampleSize: 16, seed: 5 });
  assert.equal(JSON.stringify(again.toJSON()), FORMAT1_MODEL, 'the same seed still grows the same trees');
});

function seeded64x3(): Float64Array {
  const rng = new Prng(11);
  return Float64Array.from({ length: 64 * 3 }, () => rng.normal());
}

test('explain walks the fast layout and gives the shares of the plain walk (to rounding) and the very same score', () => {
  const f = IsolationForest.fit(normals(3000, 31), DIMS, { trees: 100, seed: 8 });
  const j = f.toJSON();
  const roots = decodeArray(j.roots, 'i32', 'roots');
  const feature = decodeArray(j.feature, 'i16', 'feature');
  const value = decodeArray(j.value, 'f64', 'value');
  const right = decodeArray(j.right, 'i32', 'right');
  const size = decodeArray(j.size, 'i32', 'size');
  // The attribution as first written: walk each tree, credit log2(rows at node / rows in child).
  const reference = (x: ArrayLike<number>, shares: Float64Array) => {
    shares.fill(0);
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t];
      while (feature[node] >= 0) {
        const child = x[feature[node]] < value[node] ? node + 1 : right[node];
        if (size[child] > 0) shares[feature[node]] += Math.log2(size[node]) - Math.log2(size[child]);
        node = child;
      }
    }
    const sum = shares.reduce((a, b) => a + b, 0);
    if (sum > 0) for (let k = 0; k < shares.length; k++) shares[k] /= sum;
  };
  const probe = normals(500, 32);
  probe.fill(9, 0, DIMS);
  const got = new Float64Array(DIMS);
  const want = new Float64Array(DIMS);
  for (let i = 0; i < 500; i++) {
    const x = row(probe, i);
    assert.equal(f.explain(x, got), f.score(x));
    reference(x, want);
    // Trees walked side by side add their bits in another order: equal to rounding.
    for (let k = 0; k < DIMS; k++) assert.ok(Math.abs(got[k] - want[k]) < 1e-12, `row ${i} feature ${k}: ${got[k]} vs ${want[k]}`);
    assert.ok(Math.abs(got.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  }
});
