import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assetConfigProblem, validateAssetConfig } from '../../nodes/lib/assets/schema';
import type { AssetConfig } from '../../nodes/lib/assets/types';

const full: AssetConfig = {
  id: 'P-101',
  name: 'Feed pump 1, "north"',
  path: { site: 'Leeds', area: 'Utilities', line: 'Boiler house' },
  assetClass: 'pump',
  nameplate: { ratedCurrentA: 28.5, ratedPowerKW: 15, ratedSpeedRpm: 2950, ratedVoltageV: 400 },
  sensors: ['vibration_velocity', 'current', 'flow'],
  stateThresholds: { offBelow: 0.04, idleBelow: 0.25, overloadAbove: 1.2, startupMs: 6000, shutdownMs: 4000, speedRunningAbove: 0.2 },
  limits: { vibration_velocity: { warning: 3, action: 6, range: [0, 40] } },
  presets: { vibration: { standard: 'ISO 10816-3', group: 2, foundation: 'flexible' }, insulationClass: 'B', currentUnbalanceLimitPct: 8 },
};

test('a full and a minimal asset pass', () => {
  assert.equal(assetConfigProblem(full), undefined);
  assert.equal(assetConfigProblem({ id: 'M1', assetClass: 'motor' }), undefined);
  assert.equal(assetConfigProblem({ ...full, presets: { vibration: { standard: 'ISO 10816-1', machineClass: 'IV' } } }), undefined);
  assert.ok(validateAssetConfig(full));
});

test('each broken field is rejected with a reason that names it', () => {
  const broken: [unknown, RegExp][] = [
    [{ ...full, id: 'P/101' }, /^id must be 1–128 characters/],
    [{ ...full, id: ' P' }, /^id /],
    [{ ...full, id: 7 }, /^id must be string/],
    [{ ...full, name: '' }, /^name /],
    [{ ...full, name: 'x'.repeat(257) }, /^name /],
    [{ ...full, path: { site: 'a/b' } }, /^path\.site must be 1–128 characters/],
    [{ ...full, path: { site: 'Leeds ' } }, /^path\.site /],
    [{ ...full, path: { floor: '1' } }, /^path has an unknown field "floor"/],
    [{ ...full, assetClass: 'turbine' }, /^assetClass must be one of "motor", "pump", "compressor", "fan", "conveyor", "gearbox"/],
    [{ ...full, nameplate: { ratedCurrentA: 0 } }, /^nameplate\.ratedCurrentA must be > 0/],
    [{ ...full, nameplate: { ratedPowerKW: -1 } }, /^nameplate\.ratedPowerKW must be > 0/],
    [{ ...full, nameplate: { ratedSpeedRpm: '1500' } }, /^nameplate\.ratedSpeedRpm must be number/],
    [{ ...full, nameplate: { ratedVoltageV: Number.NaN } }, /^nameplate\.ratedVoltageV /],
    [{ ...full, nameplate: { ratedAmps: 3 } }, /^nameplate has an unknown field "ratedAmps"/],
    [{ ...full, sensors: 'current' }, /^sensors must be array/],
    [{ ...full, sensors: ['current', '1x'] }, /^sensors\[1\] must be a signal name/],
    [{ ...full, sensors: ['current', 'current'] }, /^sensors lists the same signal twice/],
    [{ ...full, stateThresholds: { offBelow: 1.5 } }, /^stateThresholds\.offBelow must be <= 1/],
    [{ ...full, stateThresholds: { idleBelow: -0.1 } }, /^stateThresholds\.idleBelow must be >= 0/],
    [{ ...full, stateThresholds: { overloadAbove: 0 } }, /^stateThresholds\.overloadAbove must be > 0/],
    [{ ...full, stateThresholds: { startupMs: 1.5 } }, /^stateThresholds\.startupMs must be integer/],
    [{ ...full, stateThresholds: { shutdownMs: -1 } }, /^stateThresholds\.shutdownMs must be >= 0/],
    [{ ...full, stateThresholds: { speedRunningAbove: 0 } }, /^stateThresholds\.speedRunningAbove must be > 0/],
    [{ ...full, stateThresholds: { offBelow: 0.3, idleBelow: 0.2 } }, /^stateThresholds\.offBelow \(0\.3\) must be below stateThresholds\.idleBelow \(0\.2\)/],
    [{ ...full, stateThresholds: { idleBelow: 0.9, overloadAbove: 0.8 } }, /^stateThresholds\.idleBelow .* must be below stateThresholds\.overloadAbove/],
    [{ ...full, stateThresholds: { offbelow: 0.1 } }, /^stateThresholds has an unknown field "offbelow"/],
    [{ ...full, limits: { '1x': { warning: 1 } } }, /^limits has an invalid signal name "1x"/],
    [{ ...full, limits: { current: { warning: '5' } } }, /^limits\.current\.warning must be number/],
    [{ ...full, limits: { current: { action: null } } }, /^limits\.current\.action must be number/],
    [{ ...full, limits: { current: { range: [1] } } }, /^limits\.current\.range must NOT have fewer than 2 items/],
    [{ ...full, limits: { current: { range: [1, 2, 3] } } }, /^limits\.current\.range must NOT have more than 2 items/],
    [{ ...full, limits: { current: { range: [5, 1] } } }, /^limits\.current\.range must be \[min, max\] with min ≤ max/],
    [{ ...full, limits: { current: { alarm: 5 } } }, /^limits\.current has an unknown field "alarm"/],
    [{ ...full, presets: { vibration: { standard: 'ISO 10816-2', machineClass: 'I' } } }, /^presets\.vibration\.standard must be one of "ISO 10816-1", "ISO 10816-3"/],
    [{ ...full, presets: { vibration: { standard: 'ISO 10816-1' } } }, /^presets\.vibration is missing "machineClass"/],
    [{ ...full, presets: { vibration: { standard: 'ISO 10816-1', machineClass: 'V' } } }, /^presets\.vibration\.machineClass must be one of "I", "II", "III", "IV"/],
    [{ ...full, presets: { vibration: { standard: 'ISO 10816-1', machineClass: 'I', group: 2 } } }, /^presets\.vibration\.group is not allowed here/],
    [{ ...full, presets: { vibration: { standard: 'ISO 10816-3', group: 2 } } }, /^presets\.vibration is missing "foundation"/],
    [{ ...full, presets: { vibration: { standard: 'ISO 10816-3', group: 3, foundation: 'rigid' } } }, /^presets\.vibration\.group must be one of 1, 2/],
    [{ ...full, presets: { vibration: { standard: 'ISO 10816-3', group: 1, foundation: 'soft' } } }, /^presets\.vibration\.foundation must be one of "rigid", "flexible"/],
    [{ ...full, presets: { vibration: { standard: 'ISO 10816-3', group: 1, foundation: 'rigid', machineClass: 'I' } } }, /^presets\.vibration\.machineClass is not allowed here/],
    [{ ...full, presets: { insulationClass: 'C' } }, /^presets\.insulationClass must be one of "A", "B", "F", "H"/],
    [{ ...full, presets: { currentUnbalanceLimitPct: 0 } }, /^presets\.currentUnbalanceLimitPct must be > 0/],
    [{ ...full, presets: { currentUnbalanceLimitPct: 150 } }, /^presets\.currentUnbalanceLimitPct must be <= 100/],
    [{ ...full, owner: 'me' }, /^the asset has an unknown field "owner"/],
    [[full], /^the asset must be object/],
    ['P-101', /^the asset must be object/],
  ];
  for (const [candidate, reason] of broken) assert.match(assetConfigProblem(candidate) ?? 'passed', reason, JSON.stringify(candidate).slice(0, 200));
  const { id: _id, ...noId } = full;
  assert.match(assetConfigProblem(noId) ?? 'passed', /^the asset is missing "id"/);
  const { assetClass: _c, ...noClass } = full;
  assert.match(assetConfigProblem(noClass) ?? 'passed', /^the asset is missing "assetClass"/);
});
