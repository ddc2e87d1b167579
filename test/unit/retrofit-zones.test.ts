import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { customZonePreset, zoneOf, ZONE_PRESETS, type ZonePresetId } from '../../nodes/lib/retrofit/zones';
import { RetrofitError } from '../../nodes/lib/retrofit/errors';

// Boundaries from shared/reference/domain.md §2.2.
const TABLE: Record<ZonePresetId, [number, number, number]> = {
  'iso10816-1/class-I': [0.71, 1.8, 4.5],
  'iso10816-1/class-II': [1.12, 2.8, 7.1],
  'iso10816-1/class-III': [1.8, 4.5, 11.2],
  'iso10816-1/class-IV': [2.8, 7.1, 18.0],
  'iso10816-3/group1-rigid': [2.3, 4.5, 7.1],
  'iso10816-3/group1-flexible': [3.5, 7.1, 11.0],
  'iso10816-3/group2-rigid': [1.4, 2.8, 4.5],
  'iso10816-3/group2-flexible': [2.3, 4.5, 7.1],
};

describe('ISO 10816 severity zones', () => {
  it('has exactly the eight presets with the reference boundaries, each from one standard', () => {
    assert.deepEqual(Object.keys(ZONE_PRESETS).sort(), Object.keys(TABLE).sort());
    for (const [id, limits] of Object.entries(TABLE)) {
      const p = ZONE_PRESETS[id as ZonePresetId];
      assert.deepEqual([...p.limits], limits, id);
      assert.equal(p.standard, id.startsWith('iso10816-1/') ? 'ISO 10816-1' : 'ISO 10816-3');
      assert.ok(p.label.startsWith(p.standard), p.label);
    }
  });

  it('classifies around every boundary; a value on a boundary stays in the lower zone', () => {
    for (const [id, [ab, bc, cd]] of Object.entries(TABLE) as [ZonePresetId, number[]][]) {
      const z = (v: number) => zoneOf(v, id).zone;
      assert.deepEqual([z(0), z(ab), z(ab + 0.01), z(bc), z(bc + 0.01), z(cd), z(cd + 0.01), z(100)], ['A', 'A', 'B', 'B', 'C', 'C', 'D', 'D'], id);
    }
  });

  it('the same velocity gives different zones in different presets, and says which preset', () => {
    const a = zoneOf(4, 'iso10816-3/group2-rigid');
    const b = zoneOf(4, 'iso10816-1/class-III');
    assert.deepEqual(a, { zone: 'C', preset: 'iso10816-3/group2-rigid', standard: 'ISO 10816-3', limits: [1.4, 2.8, 4.5] });
    assert.deepEqual(b, { zone: 'B', preset: 'iso10816-1/class-III', standard: 'ISO 10816-1', limits: [1.8, 4.5, 11.2] });
  });

  it('presets are frozen so they cannot be mixed at run time', () => {
    const p = ZONE_PRESETS['iso10816-1/class-I'];
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.limits));
  });

  it('accepts a labelled custom preset with increasing limits', () => {
    const p = customZonePreset('vendor/fat', 'Vendor acceptance limits', [1, 2, 3]);
    assert.deepEqual(zoneOf(2.5, p), { zone: 'C', preset: 'vendor/fat', standard: 'custom', limits: [1, 2, 3] });
    assert.throws(() => customZonePreset('x', 'x', [1, 3, 2]), (e: unknown) => e instanceof RetrofitError && e.code === 'invalid_zone_limits');
    assert.throws(() => customZonePreset('x', 'x', [1, 2]), (e: unknown) => e instanceof RetrofitError && e.code === 'invalid_zone_limits');
  });

  it('rejects unknown presets and impossible velocities', () => {
    assert.throws(() => zoneOf(1, 'iso10816-3/group3-rigid' as ZonePresetId), (e: unknown) => e instanceof RetrofitError && e.code === 'unknown_zone_preset');
    assert.throws(() => zoneOf(-0.1, 'iso10816-1/class-I'), (e: unknown) => e instanceof RetrofitError && e.code === 'invalid_velocity');
    assert.throws(() => zoneOf(NaN, 'iso10816-1/class-I'), (e: unknown) => e instanceof RetrofitError && e.code === 'invalid_velocity');
  });
});
