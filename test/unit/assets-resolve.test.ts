import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSET_CLASSES } from '../../nodes/lib/assets/classes';
import { resolveAsset, signalSpecFor } from '../../nodes/lib/assets/resolve';
import { AssetConfigError } from '../../nodes/lib/assets/schema';
import type { AssetConfig } from '../../nodes/lib/assets/types';
import { SIGNALS } from '../../nodes/lib/signals';

const codeOf = (config: unknown): string | undefined => {
  try {
    resolveAsset(config as AssetConfig);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof AssetConfigError, String(err));
    return err.code;
  }
};

test('a bare asset gets every class default', () => {
  const asset = resolveAsset({ id: 'M-1', assetClass: 'motor' });
  assert.equal(asset.name, 'M-1');
  assert.deepEqual(asset.path, {});
  assert.equal(asset.assetClass, ASSET_CLASSES.motor);
  assert.deepEqual(asset.sensors, ASSET_CLASSES.motor.signals);
  assert.notEqual(asset.sensors[0], ASSET_CLASSES.motor.signals[0], 'copies, not the shared objects');
  assert.deepEqual(asset.stateThresholds, ASSET_CLASSES.motor.stateThresholds);
  assert.deepEqual(asset.presets, ASSET_CLASSES.motor.presets);
  assert.deepEqual(Object.keys(asset.limits), ASSET_CLASSES.motor.signals.map((s) => s.signal));
  // ISO 10816-3 group 2 rigid: B/C 2.8, C/D 4.5; NEMA F: 145 nominal, 155 max.
  assert.deepEqual(asset.limits.vibration_velocity, { range: [0, 50], warning: 2.8, action: 4.5 });
  assert.deepEqual(asset.limits.winding_temperature, { range: [-20, 200], warning: 145, action: 155 });
  assert.deepEqual(asset.limits.current, { range: [0, 5000] });
});

test('overrides merge one field at a time', () => {
  const asset = resolveAsset({
    id: 'P-101',
    name: 'Feed pump 1',
    path: { site: 'Plant', line: 'L1' },
    assetClass: 'pump',
    nameplate: { ratedCurrentA: 28, ratedSpeedRpm: 2950 },
    stateThresholds: { overloadAbove: 1.2, startupMs: 4000 },
    limits: { vibration_velocity: { warning: 3.5 }, flow: { range: [0, 120] }, current: { action: 33 } },
    presets: { insulationClass: 'B' },
  });
  assert.equal(asset.name, 'Feed pump 1');
  assert.deepEqual(asset.path, { site: 'Plant', line: 'L1' });
  assert.deepEqual(asset.stateThresholds, { ...ASSET_CLASSES.pump.stateThresholds, overloadAbove: 1.2, startupMs: 4000 });
  assert.deepEqual(asset.limits.vibration_velocity, { range: [0, 50], warning: 3.5, action: 4.5 });
  assert.deepEqual(asset.limits.flow, { range: [0, 120] });
  // Nameplate-derived ranges: 10 × rated current, 2 × rated speed.
  assert.deepEqual(asset.limits.current, { range: [0, 280], action: 33 });
  assert.deepEqual(asset.limits.speed, { range: [0, 5900] });
  assert.deepEqual(asset.presets, { ...ASSET_CLASSES.pump.presets, insulationClass: 'B' });
  assert.deepEqual(asset.nameplate, { ratedCurrentA: 28, ratedSpeedRpm: 2950 });
});

test('a vibration preset override moves the vibration limits', () => {
  const asset = resolveAsset({ id: 'F-1', assetClass: 'motor', presets: { vibration: { standard: 'ISO 10816-1', machineClass: 'I' } } });
  assert.deepEqual(asset.limits.vibration_velocity, { range: [0, 50], warning: 1.8, action: 4.5 });
  assert.equal(asset.presets.insulationClass, 'F');
  const g1 = resolveAsset({ id: 'M-2', assetClass: 'motor', presets: { vibration: { standard: 'ISO 10816-3', group: 1, foundation: 'flexible' } } });
  assert.deepEqual(g1.limits.vibration_velocity, { range: [0, 50], warning: 7.1, action: 11 });
});

test('sensors select class signals in the order given; empty means all', () => {
  const asset = resolveAsset({ id: 'C-1', assetClass: 'conveyor', sensors: ['belt_speed', 'current'] });
  assert.deepEqual(asset.sensors.map((s) => s.signal), ['belt_speed', 'current']);
  assert.deepEqual(Object.keys(asset.limits), ['belt_speed', 'current']);
  assert.equal(resolveAsset({ id: 'C-2', assetClass: 'conveyor', sensors: [] }).sensors.length, ASSET_CLASSES.conveyor.signals.length);
});

test('a signal the class lacks is accepted when its unit is known', () => {
  // Built-in signal no class names: SIGNALS range, a default interval by quantity.
  const motor = resolveAsset({ id: 'M-3', assetClass: 'motor', sensors: ['current', 'pressure'] });
  const pressure = motor.sensors[1];
  assert.deepEqual({ ...pressure, description: '' }, { signal: 'pressure', unit: 'bar', range: SIGNALS.pressure.range, intervalMs: 1000, description: '' });
  // Named by another class: that class's spec.
  const withOil = resolveAsset({ id: 'M-4', assetClass: 'motor', sensors: ['oil_temperature'] });
  assert.deepEqual(withOil.sensors[0], ASSET_CLASSES.gearbox.signals.find((s) => s.signal === 'oil_temperature'));
  // Known only by its suffix.
  const tank = signalSpecFor(ASSET_CLASSES.pump, 'tank_pressure');
  assert.equal(tank?.unit, 'bar');
  assert.equal(signalSpecFor(ASSET_CLASSES.pump, 'seal_temp')?.unit, '°C');
  assert.equal(signalSpecFor(ASSET_CLASSES.pump, 'tank_level'), undefined);
});

test('clear errors with stable codes', () => {
  assert.equal(codeOf({ id: 'X-1', assetClass: 'turbine' }), 'unknown_class');
  assert.throws(() => resolveAsset({ id: 'X-1', assetClass: 'turbine' } as unknown as AssetConfig), /unknown asset class "turbine" for asset "X-1" \(expected one of motor, pump/);
  assert.equal(codeOf({ id: 'X-1', assetClass: 'pump', sensors: ['tank_level'] }), 'unknown_signal');
  assert.throws(() => resolveAsset({ id: 'X-1', assetClass: 'pump', sensors: ['tank_level'] }), /sensor "tank_level" is not a signal of a pump/);
  assert.equal(codeOf({ id: 'X-1', assetClass: 'pump', sensors: ['9lives'] }), 'invalid_config');
  assert.equal(codeOf({ id: 'X-1', assetClass: 'pump', limits: { winding_temperature: { warning: 100 } } }), 'limits_without_sensor');
  assert.equal(codeOf({ id: 'X-1', assetClass: 'pump', sensors: ['current'], limits: { flow: { warning: 1 } } }), 'limits_without_sensor');
  // Consistent on its own, contradicts the class default once merged.
  assert.equal(codeOf({ id: 'X-1', assetClass: 'pump', stateThresholds: { idleBelow: 0.04 } }), 'inconsistent_thresholds');
  assert.equal(codeOf({ id: 'X-1', assetClass: 'compressor', stateThresholds: { overloadAbove: 0.4 } }), 'inconsistent_thresholds');
  assert.equal(codeOf({ id: 'X-1', assetClass: 'pump', stateThresholds: { idleBelow: 0.04, offBelow: 0.01 } }), undefined);
  assert.equal(codeOf({ id: 'X-1', assetClass: 'pump', limits: { flow: { range: [10, 5] } } }), 'invalid_config');
  assert.equal(codeOf({ id: 'a/b', assetClass: 'pump' }), 'invalid_config');
  assert.equal(codeOf(null), 'invalid_config');
});

test('resolving does not change the configuration or the class', () => {
  const config: AssetConfig = { id: 'M-5', assetClass: 'motor', limits: { current: { warning: 5 } }, sensors: ['current'] };
  const before = structuredClone(config);
  const asset = resolveAsset(config);
  asset.limits.current.warning = 99;
  asset.sensors[0].range[1] = 1;
  assert.deepEqual(config, before);
  assert.equal(ASSET_CLASSES.motor.signals.find((s) => s.signal === 'current')?.range[1], 5000);
});
