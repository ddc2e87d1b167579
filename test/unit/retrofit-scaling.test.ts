import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { calibrate, ctPrimaryCurrent, loopToEngineering } from '../../nodes/lib/retrofit/scaling';
import { RetrofitError } from '../../nodes/lib/retrofit/errors';

describe('4-20 mA scaling (NAMUR NE43)', () => {
  const range = { min: 0, max: 10 }; // 0-10 bar transmitter
  const lin = (mA: number) => ((mA - 4) * 10) / 16;

  it('maps 4-20 mA linearly onto the engineering range', () => {
    assert.deepEqual(loopToEngineering(4, range), { value: 0, quality: 'good' });
    assert.deepEqual(loopToEngineering(12, range), { value: 5, quality: 'good' });
    assert.deepEqual(loopToEngineering(20, range), { value: 10, quality: 'good' });
    assert.deepEqual(loopToEngineering(8, { min: -50, max: 150 }), { value: 0, quality: 'good' });
    assert.deepEqual(loopToEngineering(0.012, { min: 0, max: 10, currentUnit: 'A' }), { value: 5, quality: 'good' });
    // Reverse-acting transmitter.
    assert.deepEqual(loopToEngineering(4, { min: 100, max: 0 }), { value: 100, quality: 'good' });
  });

  it('keeps 3.8-4 and 20-20.5 mA good, extrapolated (NE43 measuring range)', () => {
    assert.deepEqual(loopToEngineering(3.8, range), { value: lin(3.8), quality: 'good' });
    assert.deepEqual(loopToEngineering(20.5, range), { value: 10.3125, quality: 'good' });
  });

  it('marks the transition bands uncertain', () => {
    assert.deepEqual(loopToEngineering(3.7, range), { value: lin(3.7), quality: 'uncertain', qualityReason: 'under_range' });
    assert.deepEqual(loopToEngineering(3.6, range), { value: lin(3.6), quality: 'uncertain', qualityReason: 'under_range' });
    assert.deepEqual(loopToEngineering(20.8, range), { value: lin(20.8), quality: 'uncertain', qualityReason: 'above_range' });
    assert.deepEqual(loopToEngineering(21, range), { value: 10.625, quality: 'uncertain', qualityReason: 'above_range' });
  });

  it('marks < 3.6 mA as a wire break and > 21 mA as over range, both bad', () => {
    assert.deepEqual(loopToEngineering(3.59, range), { value: lin(3.59), quality: 'bad', qualityReason: 'wire_break' });
    assert.deepEqual(loopToEngineering(0, range), { value: -2.5, quality: 'bad', qualityReason: 'wire_break' });
    assert.deepEqual(loopToEngineering(21.01, range), { value: lin(21.01), quality: 'bad', qualityReason: 'over_range' });
    assert.deepEqual(loopToEngineering(NaN, range), { value: 0, quality: 'bad', qualityReason: 'invalid_current' });
  });

  it('rejects an unusable range', () => {
    assert.throws(() => loopToEngineering(12, { min: 5, max: 5 }), (e: unknown) => e instanceof RetrofitError && e.code === 'invalid_range');
    assert.throws(() => loopToEngineering(12, { min: NaN, max: 5 }), (e: unknown) => e instanceof RetrofitError && e.code === 'invalid_range');
  });
});

describe('clamp-on CT', () => {
  it('scales secondary current by the ratio', () => {
    assert.deepEqual(ctPrimaryCurrent(2.5, { primary: 100, secondary: 5, input: 'secondary_current' }), { value: 50, quality: 'good' });
  });

  it('derives secondary current from the burden voltage', () => {
    // 100:5 A CT into 0.2 Ω: 0.5 V → 2.5 A secondary → 50 A primary.
    assert.deepEqual(ctPrimaryCurrent(0.5, { primary: 100, secondary: 5, input: 'burden_voltage', burdenOhms: 0.2 }), { value: 50, quality: 'good' });
  });

  it('handles voltage-output CTs (e.g. 100 A : 1 V)', () => {
    assert.deepEqual(ctPrimaryCurrent(0.333, { primary: 100, secondary: 1, input: 'voltage_output' }), { value: 33.300000000000004, quality: 'good' });
  });

  it('flags readings beyond 120 % of the rating and negative RMS', () => {
    assert.deepEqual(ctPrimaryCurrent(6.5, { primary: 100, secondary: 5, input: 'secondary_current' }), { value: 130, quality: 'uncertain', qualityReason: 'above_ct_rating' });
    assert.deepEqual(ctPrimaryCurrent(6, { primary: 100, secondary: 5, input: 'secondary_current' }), { value: 120, quality: 'good' });
    assert.deepEqual(ctPrimaryCurrent(-1, { primary: 100, secondary: 5, input: 'secondary_current' }), { value: -20, quality: 'bad', qualityReason: 'negative_rms' });
    assert.deepEqual(ctPrimaryCurrent(Infinity, { primary: 100, secondary: 5, input: 'secondary_current' }), { value: 0, quality: 'bad', qualityReason: 'invalid_current' });
  });

  it('rejects impossible CT configurations', () => {
    const code = (e: unknown) => e instanceof RetrofitError && e.code === 'invalid_ct';
    assert.throws(() => ctPrimaryCurrent(1, { primary: 0, secondary: 5, input: 'secondary_current' }), code);
    assert.throws(() => ctPrimaryCurrent(1, { primary: 100, secondary: 5, input: 'burden_voltage' }), code);
    assert.throws(() => ctPrimaryCurrent(1, { primary: 100, secondary: 5, input: 'burden_voltage', burdenOhms: 0 }), code);
  });
});

describe('calibration', () => {
  it('applies gain then offset', () => {
    assert.equal(calibrate(10, { gain: 1.02, offset: -0.5 }), 9.7);
    assert.equal(calibrate(10, { offset: 0.25 }), 10.25);
    assert.equal(calibrate(10, undefined), 10);
  });
});
