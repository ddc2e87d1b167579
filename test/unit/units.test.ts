import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKnownUnit, resolveUnit, toCanonical } from '../../nodes/lib/units';

/** Known values from unit definitions (NIST SP 811 factors). */
const CASES: [number, string, string | undefined, number, string][] = [
  [212, '°F', 'temperature', 100, '°C'],
  [32, 'degF', 'temperature', 0, '°C'],
  [-40, 'F', 'temperature', -40, '°C'],
  [273.15, 'K', 'temperature', 0, '°C'],
  [373.15, 'kelvin', 'temperature', 100, '°C'],
  [1, 'in/s', 'velocity', 25.4, 'mm/s'],
  [0.5, 'ips', 'velocity', 12.7, 'mm/s'],
  [1, 'g', 'acceleration', 9.80665, 'm/s²'],
  [2, 'm/s^2', 'acceleration', 2, 'm/s²'],
  [14.5037738, 'psi', 'pressure', 1, 'bar'],
  [100, 'kPa', 'pressure', 1, 'bar'],
  [1, 'MPa', 'pressure', 10, 'bar'],
  [100000, 'Pa', 'pressure', 1, 'bar'],
  [1000, 'l/min', 'flow', 60, 'm³/h'],
  [1, 'gpm', 'flow', 0.227124707, 'm³/h'],
  [4.402867539, 'US gpm', 'flow', 1, 'm³/h'],
  [1, 'hp', 'power', 0.745699872, 'kW'],
  [1500, 'W', 'power', 1.5, 'kW'],
  [25, 'Hz', 'speed', 1500, 'rpm'],
  [1800, 'rpm', 'speed', 1800, 'rpm'],
  [20, 'mA', 'current', 0.02, 'A'],
  [0.4, 'kV', 'voltage', 400, 'V'],
];

for (const [value, unit, quantity, expected, canonical] of CASES) {
  test(`${value} ${unit} → ${expected} ${canonical}`, () => {
    const converted = toCanonical(value, unit, quantity as never);
    assert.ok(converted, `${unit} should resolve`);
    assert.equal(converted.unit, canonical);
    assert.ok(Math.abs(converted.value - expected) < 1e-6 * Math.max(1, Math.abs(expected)), `${converted.value} ≠ ${expected}`);
  });
}

test('a unit of another quantity is not converted', () => {
  assert.equal(toCanonical(1, 'bar', 'temperature'), undefined);
  assert.equal(toCanonical(1, 'furlong'), undefined);
});

test('Hz is shaft speed for speed signals and frequency elsewhere', () => {
  assert.equal(resolveUnit('Hz', 'speed')?.quantity, 'speed');
  assert.equal(resolveUnit('Hz')?.quantity, 'frequency');
  assert.equal(toCanonical(50, 'Hz')?.value, 50);
});

test('mega-prefixed units are case-exact; others fold case', () => {
  assert.equal(resolveUnit('MW')?.unit, 'MW');
  assert.equal(resolveUnit('mw'), undefined);
  assert.equal(resolveUnit('mpa'), undefined);
  assert.equal(resolveUnit('KPA')?.unit, 'kPa');
  assert.equal(resolveUnit('DEGF')?.unit, '°F');
  assert.ok(isKnownUnit(' mm/s '));
  assert.ok(!isKnownUnit('parsec'));
});
