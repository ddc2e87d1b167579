import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Normaliser, REJECT_MESSAGES, type RejectCode } from '../../nodes/lib/normalise';

const NOW = Date.UTC(2026, 10, 27, 9, 0, 0);
const make = (options = {}) => new Normaliser({ now: () => NOW, ...options });
const base = { assetId: 'P-101', signal: 'temperature', value: 50, unit: '°C', ts: NOW - 1000 };

test('a good reading passes unchanged but for defaults', () => {
  const { clean, rejects, duplicates } = make().normalise(base);
  assert.equal(rejects.length, 0);
  assert.equal(duplicates, 0);
  assert.deepEqual(clean, [{ ...base, quality: 'good' }]);
});

test('units convert and the original is kept in source', () => {
  const [reading] = make().normalise({ ...base, value: 212, unit: '°F', source: { protocol: 'modbus', address: '40001' } }).clean;
  assert.ok(Math.abs(reading.value - 100) < 1e-9);
  assert.equal(reading.unit, '°C');
  assert.deepEqual(reading.source, { protocol: 'modbus', address: '40001', originalUnit: '°F', originalValue: 212 });
});

test('a batch lends assetId and ts to its readings; own values win', () => {
  const result = make().normalise({
    assetId: 'M-7',
    ts: '2026-11-27T08:59:00Z',
    readings: [
      { signal: 'current', value: 11, unit: 'A' },
      { signal: 'vibration_velocity', value: 0.1, unit: 'in/s', ts: NOW - 5 },
      { assetId: 'M-8', signal: 'speed', value: 24.5, unit: 'Hz' },
    ],
  });
  assert.equal(result.rejects.length, 0);
  assert.deepEqual(
    result.clean.map((r) => [r.assetId, r.signal, r.value, r.unit, r.ts]),
    [
      ['M-7', 'current', 11, 'A', Date.UTC(2026, 10, 27, 8, 59)],
      ['M-7', 'vibration_velocity', 2.54, 'mm/s', NOW - 5],
      ['M-8', 'speed', 1470, 'rpm', Date.UTC(2026, 10, 27, 8, 59)],
    ],
  );
});

test('arrays keep good readings and reject bad ones by index', () => {
  const result = make().normalise([base, { ...base, ts: NOW - 2, value: 'hot' }, { ...base, ts: NOW - 3 }]);
  assert.equal(result.clean.length, 2);
  assert.equal(result.rejects.length, 1);
  assert.equal(result.rejects[0].index, 1);
  assert.equal(result.rejects[0].code, 'invalid_value');
  assert.deepEqual(result.rejects[0].item, { ...base, ts: NOW - 2, value: 'hot' });
});

const BAD: [string, unknown, RejectCode][] = [
  ['a string', 'temperature=50', 'not_a_reading'],
  ['a number', 42, 'not_a_reading'],
  ['null', null, 'not_a_reading'],
  ['an empty array', [], 'empty'],
  ['an empty batch', { assetId: 'x', readings: [] }, 'empty'],
  ['no asset', { ...base, assetId: undefined }, 'missing_field'],
  ['an asset with a wildcard', { ...base, assetId: 'P#1' }, 'invalid_asset'],
  ['an object as asset', { ...base, assetId: { id: 1 } }, 'invalid_asset'],
  ['no signal', { ...base, signal: '' }, 'missing_field'],
  ['a signal with a slash', { ...base, signal: 'temp/1' }, 'invalid_signal'],
  ['no value', { ...base, value: null }, 'missing_field'],
  ['NaN', { ...base, value: NaN }, 'invalid_value'],
  ['Infinity', { ...base, value: Infinity }, 'invalid_value'],
  ['an absurd magnitude', { ...base, value: 1e200 }, 'invalid_value'],
  ['an object value', { ...base, value: { v: 1 } }, 'invalid_value'],
  ['no unit', { ...base, unit: undefined }, 'missing_field'],
  ['an unknown unit', { ...base, unit: 'furlong' }, 'unknown_unit'],
  ['a numeric unit', { ...base, unit: 5 }, 'unknown_unit'],
  ['a unit of another quantity', { ...base, unit: 'psi' }, 'unit_mismatch'],
  ['an unreadable timestamp', { ...base, ts: 'yesterday' }, 'invalid_timestamp'],
  ['a negative timestamp', { ...base, ts: -5 }, 'invalid_timestamp'],
  ['an unknown quality', { ...base, quality: 'fine' }, 'invalid_quality'],
];

for (const [label, input, code] of BAD) {
  test(`rejects ${label} as ${code}`, () => {
    const result = make().normalise(input);
    assert.equal(result.clean.length, 0);
    assert.equal(result.rejects.length, 1);
    assert.equal(result.rejects[0].code, code);
    assert.ok(result.rejects[0].reason.length > 10 && !result.rejects[0].reason.includes('__'), result.rejects[0].reason);
  });
}

test('every reject code has a message in the catalog', () => {
  for (const [, , code] of BAD) assert.ok(REJECT_MESSAGES[code]);
  assert.ok(REJECT_MESSAGES.future_timestamp);
});

test('future timestamps beyond the limit are rejected; within it they pass', () => {
  const n = make({ maxFutureMs: 600_000 });
  assert.equal(n.normalise({ ...base, ts: NOW + 599_000 }).clean.length, 1);
  assert.equal(n.normalise({ ...base, ts: NOW + 601_000 }).rejects[0]?.code, 'future_timestamp');
  assert.equal(make().normalise({ ...base, ts: NOW + 10 * 86_400_000 }).clean.length, 1, 'off by default in the core');
});

test('a missing timestamp becomes the arrival time and says so', () => {
  const [reading] = make().normalise({ ...base, ts: undefined }).clean;
  assert.equal(reading.ts, NOW);
  assert.equal(reading.source?.tsFilled, 'received');
});

test('exact duplicates of (asset, signal, ts) are dropped and counted', () => {
  const n = make();
  assert.equal(n.normalise(base).clean.length, 1);
  const again = n.normalise({ ...base, value: 51 });
  assert.equal(again.clean.length, 0);
  assert.equal(again.duplicates, 1);
  assert.equal(n.normalise({ ...base, signal: 'bearing_temperature' }).clean.length, 1, 'another signal is not a duplicate');
  n.reset();
  assert.equal(n.normalise(base).clean.length, 1, 'reset forgets');
});

test('values outside the plausible range are bad with a reason; overrides win', () => {
  const [hot] = make().normalise({ ...base, value: 900 }).clean;
  assert.equal(hot.quality, 'bad');
  assert.equal(hot.qualityReason, 'out_of_range');
  const [tight] = make({ ranges: { temperature: [0, 40] } }).normalise(base).clean;
  assert.equal(tight.quality, 'bad');
  const [custom] = make({ ranges: { humidity: [0, 100] } }).normalise({ ...base, signal: 'humidity', unit: '%', value: 120 }).clean;
  assert.equal(custom.quality, 'bad');
});

test('the same value N times in a row is uncertain (stuck), a change clears it', () => {
  const n = make({ stuckCount: 3 });
  const q = (value: number, ts: number) => n.normalise({ ...base, value, ts }).clean[0];
  assert.equal(q(50, 1).quality, 'good');
  assert.equal(q(50, 2).quality, 'good');
  const third = q(50, 3);
  assert.equal(third.quality, 'uncertain');
  assert.equal(third.qualityReason, 'stuck');
  assert.equal(q(50.1, 4).quality, 'good');
});

test('a bad input quality is kept; a good one can be downgraded', () => {
  const [reading] = make().normalise({ ...base, quality: 'Uncertain' }).clean;
  assert.equal(reading.quality, 'uncertain');
});

test('numeric strings and booleans become numbers', () => {
  const result = make().normalise([{ ...base, value: ' 42.5 ' }, { ...base, signal: 'running', unit: '1', value: true }]);
  assert.deepEqual(result.clean.map((r) => r.value), [42.5, 1]);
});

test('an upstream bad reading keeps its own reason even when out of range', () => {
  const [reading] = make().normalise({ ...base, value: 9000, quality: 'bad', qualityReason: 'wire_break' }).clean;
  assert.equal(reading.quality, 'bad');
  assert.equal(reading.qualityReason, 'wire_break');
});

test('a replayed reading keeps its historical flag', () => {
  const [reading] = make().normalise({ ...base, historical: true }).clean;
  assert.equal(reading.historical, true);
  assert.equal(make().normalise({ ...base, historical: 'yes' }).clean[0].historical, undefined);
});
