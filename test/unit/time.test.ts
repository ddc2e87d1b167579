import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toEpochMs } from '../../nodes/lib/time';

const MS = Date.UTC(2026, 10, 27, 8, 30, 15, 250); // 2026-11-27T08:30:15.250Z

test('epoch seconds, with and without fractions', () => {
  assert.equal(toEpochMs(MS / 1000), MS);
  assert.equal(toEpochMs(Math.floor(MS / 1000)), MS - 250);
});

test('epoch milliseconds pass through', () => {
  assert.equal(toEpochMs(MS), MS);
});

test('ISO 8601 with zone, offset and comma fractions', () => {
  assert.equal(toEpochMs('2026-11-27T08:30:15.250Z'), MS);
  assert.equal(toEpochMs('2026-11-27T09:30:15.250+01:00'), MS);
  assert.equal(toEpochMs('2026-11-27T08:30:15,250Z'), MS);
  assert.equal(toEpochMs('2026-11-27'), Date.UTC(2026, 10, 27));
});

test('Date objects and numeric strings', () => {
  assert.equal(toEpochMs(new Date(MS)), MS);
  assert.equal(toEpochMs(String(MS)), MS);
  assert.equal(toEpochMs(String(MS / 1000)), MS);
});

test('unreadable timestamps are undefined, never NaN', () => {
  for (const bad of ['yesterday', 'Nov 27 2026', '', NaN, Infinity, -1, new Date('x'), {}, [], true, null, 9e15, '2026-13-45T99:00Z']) {
    assert.equal(toEpochMs(bad), undefined, `accepted ${String(bad)}`);
  }
});
