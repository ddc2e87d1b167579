import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bearingFrequencies } from '../../nodes/lib/retrofit/bearing';
import { RetrofitError } from '../../nodes/lib/retrofit/errors';

const round2 = (x: number) => Math.round(x * 100) / 100;
const SKF_6205 = { n: 9, d: 7.94, D: 39.04, contactAngleDeg: 0 };

describe('bearing defect frequencies', () => {
  it('6205 at 1797 rpm: BPFO 107.36, BPFI 162.19, FTF 11.93, BSF 70.58 Hz', () => {
    const f = bearingFrequencies(SKF_6205, 1797);
    assert.deepEqual(
      { shaft: round2(f.shaftHz), bpfo: round2(f.bpfo), bpfi: round2(f.bpfi), ftf: round2(f.ftf), bsf: round2(f.bsf) },
      { shaft: 29.95, bpfo: 107.36, bpfi: 162.19, ftf: 11.93, bsf: 70.58 },
    );
  });

  it('BPFO + BPFI = n × shaft speed, BPFO = n × FTF', () => {
    const f = bearingFrequencies(SKF_6205, 1500);
    assert.ok(Math.abs(f.bpfo + f.bpfi - 9 * 25) < 1e-9);
    assert.ok(Math.abs(f.bpfo - 9 * f.ftf) < 1e-9);
  });

  it('a contact angle moves the frequencies towards n·fr/2', () => {
    const flat = bearingFrequencies({ ...SKF_6205, contactAngleDeg: 0 }, 1797);
    const angular = bearingFrequencies({ ...SKF_6205, contactAngleDeg: 40 }, 1797);
    assert.ok(angular.bpfo > flat.bpfo && angular.bpfi < flat.bpfi);
    const r = (7.94 / 39.04) * Math.cos((40 * Math.PI) / 180);
    assert.ok(Math.abs(angular.bpfo - (9 * 29.95 / 2) * (1 - r)) < 1e-9);
    // contactAngleDeg defaults to 0.
    assert.deepEqual(bearingFrequencies({ n: 9, d: 7.94, D: 39.04 }, 1797), flat);
  });

  it('rejects impossible geometry and speed', () => {
    const bad = (g: Parameters<typeof bearingFrequencies>[0], rpm = 1000, code = 'invalid_bearing') =>
      assert.throws(() => bearingFrequencies(g, rpm), (e: unknown) => e instanceof RetrofitError && e.code === code);
    bad({ ...SKF_6205, n: 0 });
    bad({ ...SKF_6205, n: 8.5 });
    bad({ ...SKF_6205, d: 0 });
    bad({ ...SKF_6205, D: 7 });
    bad({ ...SKF_6205, contactAngleDeg: 90 });
    bad(SKF_6205, -1, 'invalid_speed');
    bad(SKF_6205, NaN, 'invalid_speed');
  });
});
