import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readingProblem, validateReading } from '../../nodes/lib/contracts/reading';
import { parseRanges } from '../../nodes/lib/ranges';
import { RecentKeys } from '../../nodes/lib/recent-keys';

const good = { assetId: 'P-101', signal: 'current', value: 12.5, unit: 'A', ts: 1764232215250, quality: 'good' };

test('a canonical reading passes the schema', () => {
  assert.equal(readingProblem(good), undefined);
  assert.ok(validateReading({ ...good, quality: 'bad', qualityReason: 'out_of_range', source: { protocol: 'modbus', originalValue: 3 } }));
});

test('each broken field fails the schema with a readable reason', () => {
  const broken: [Record<string, unknown>, RegExp][] = [
    [{ ...good, assetId: 'a/b' }, /assetId/],
    [{ ...good, signal: '1x' }, /signal/],
    [{ ...good, value: '12' }, /value/],
    [{ ...good, ts: 1.5 }, /ts/],
    [{ ...good, quality: 'ok' }, /quality/],
    [{ ...good, extra: 1 }, /additional/],
    [{ ...good, source: { originalValue: 'x' } }, /originalValue/],
  ];
  for (const [reading, reason] of broken) assert.match(readingProblem(reading) ?? 'passed', reason);
  const { unit: _unit, ...missingUnit } = good;
  assert.match(readingProblem(missingUnit) ?? 'passed', /unit/);
});

test('ranges setting parses and rejects bad shapes', () => {
  assert.deepEqual(parseRanges(''), { ok: true, ranges: {} });
  assert.deepEqual(parseRanges('{"temperature":[-20,150]}'), { ok: true, ranges: { temperature: [-20, 150] } });
  for (const bad of ['{', '[]', '{"t":[2,1]}', '{"t":[1]}', '{"t":["a",2]}']) assert.equal(parseRanges(bad).ok, false, bad);
});

test('recent keys forget the oldest beyond capacity', () => {
  const keys = new RecentKeys(2);
  assert.equal(keys.addIfNew('a'), true);
  assert.equal(keys.addIfNew('a'), false);
  keys.addIfNew('b');
  keys.addIfNew('c');
  assert.equal(keys.size, 2);
  assert.equal(keys.addIfNew('a'), true, 'a was evicted');
});

test('a vibration reading may carry its ISO zone in source.zone, in one shape only', () => {
  const zone = { zone: 'C', preset: 'iso10816-3/group2-rigid', standard: 'ISO 10816-3', limits: [1.4, 2.8, 4.5] };
  const vib = { ...good, signal: 'vibration_velocity', unit: 'mm/s', value: 3.1 };
  assert.equal(readingProblem({ ...vib, source: { zone } }), undefined);
  assert.match(readingProblem({ ...vib, source: { zone: { ...zone, zone: 'E' } } }) ?? 'passed', /zone/);
  assert.match(readingProblem({ ...vib, source: { zone: { ...zone, limits: [1, 2] } } }) ?? 'passed', /limits/);
});
