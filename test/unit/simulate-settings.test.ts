/**
 * The node's settings parser and the simulated clock (accelerated, stepped, held at the wall clock).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimClock, SimConfigError, parseSimSettings } from '../../nodes/lib/simulate';

describe('pdm-simulate settings', () => {
  it('takes editor strings and fills defaults', () => {
    assert.deepEqual(parseSimSettings({}), {
      seed: 1,
      intervalMs: 1000,
      clock: { mode: 'accelerated', factor: 1, stepSec: 60, hold: false },
      historyMs: 0,
      shifts: false,
      shape: 'readings',
      autoStart: true,
    });
    const s = parseSimSettings({ seed: '42', interval: '0.5', clock: 'step', factor: '60', stepSec: '600', historyHours: '24', hold: true, shifts: 'true', sampleSec: '10', shape: 'modbus', autoStart: false });
    assert.deepEqual(s, {
      seed: 42,
      intervalMs: 500,
      clock: { mode: 'step', factor: 60, stepSec: 600, hold: true },
      historyMs: 24 * 3_600_000,
      shifts: true,
      sampleSec: 10,
      shape: 'modbus',
      autoStart: false,
    });
    assert.equal(parseSimSettings({ interval: 0 }).intervalMs, 0, '0 = manual ticks');
  });

  it('names the field of a bad setting', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ seed: '1.5' }, /^seed/],
      [{ interval: '-1' }, /^interval/],
      [{ interval: '0.001' }, /^interval/],
      [{ clock: 'sundial' }, /^clock/],
      [{ factor: '0' }, /^factor/],
      [{ stepSec: '2.5' }, /^stepSec/],
      [{ historyHours: 'x' }, /^historyHours/],
      [{ sampleSec: '0' }, /^sampleSec/],
      [{ shape: 'mqtt' }, /^shape/],
    ];
    for (const [raw, re] of bad) {
      assert.throws(() => parseSimSettings(raw), (e: unknown) => e instanceof SimConfigError && e.code === 'invalid_option' && re.test(e.message), JSON.stringify(raw));
    }
  });
});

describe('simulated clock', () => {
  const wall = Date.UTC(2025, 5, 2, 12);

  it('accelerated: anchor + factor × wall time elapsed, continuing where it was paused', () => {
    const c = new SimClock({ mode: 'accelerated', factor: 60, stepSec: 60, hold: false });
    c.resume(wall, wall);
    assert.equal(c.target(wall + 1000, wall), wall + 60_000);
    assert.equal(c.target(wall + 10_000, wall), wall + 600_000);
    // Paused for an hour at +600 s, then resumed: no jump.
    c.resume(wall + 3_610_000, wall + 600_000);
    assert.equal(c.target(wall + 3_611_000, wall + 600_000), wall + 660_000);
    assert.equal(c.target(wall, wall + 700_000), wall + 700_000, 'never backwards');
  });

  it('step: a fixed simulated step per tick, whatever the wall clock does', () => {
    const c = new SimClock({ mode: 'step', factor: 1, stepSec: 600, hold: false });
    c.resume(wall, wall);
    assert.equal(c.target(wall, wall), wall + 600_000);
    assert.equal(c.target(wall + 5, wall + 600_000), wall + 1_200_000);
  });

  it('hold: a plant started in the past catches up with the wall clock, then runs in real time', () => {
    const start = wall - 24 * 3_600_000;
    const c = new SimClock({ mode: 'accelerated', factor: 3600, stepSec: 60, hold: true });
    c.resume(wall, start);
    assert.equal(c.target(wall + 1000, start), start + 3_600_000);
    assert.equal(c.target(wall + 30_000, start + 3_600_000), wall + 30_000, 'caught up: held at now');
    const s = new SimClock({ mode: 'step', factor: 1, stepSec: 3600, hold: true });
    assert.equal(s.target(wall, wall - 1000), wall);
  });
});
