import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSET_CLASSES, ASSET_CLASS_IDS, INSULATION_LIMITS, getAssetClass, isAssetClassId, vibrationPresetId } from '../../nodes/lib/assets/classes';
import { SIGNALS, isValidSignalName } from '../../nodes/lib/signals';
import { QUANTITIES, toCanonical } from '../../nodes/lib/units';
import { ZONE_PRESETS } from '../../nodes/lib/retrofit/zones';

const classes = ASSET_CLASS_IDS.map((id) => ASSET_CLASSES[id]);

test('the six classes exist and are keyed by their id', () => {
  assert.deepEqual([...ASSET_CLASS_IDS].sort(), ['compressor', 'conveyor', 'fan', 'gearbox', 'motor', 'pump']);
  for (const id of ASSET_CLASS_IDS) {
    assert.equal(ASSET_CLASSES[id].id, id);
    assert.equal(getAssetClass(id), ASSET_CLASSES[id]);
    assert.ok(isAssetClassId(id));
  }
  assert.equal(getAssetClass('turbine'), undefined);
  assert.equal(isAssetClassId('toString'), false);
  assert.equal(getAssetClass('toString'), undefined);
});

test('every signal has a valid name, a canonical unit, a sane range and interval', () => {
  for (const cls of classes) {
    const names = cls.signals.map((s) => s.signal);
    assert.equal(new Set(names).size, names.length, `${cls.id}: duplicate signal`);
    for (const s of cls.signals) {
      const where = `${cls.id}.${s.signal}`;
      assert.ok(isValidSignalName(s.signal), where);
      assert.equal(toCanonical(1, s.unit)?.unit, s.unit, `${where}: unit ${s.unit} is not canonical`);
      const builtIn = SIGNALS[s.signal];
      if (builtIn) {
        assert.equal(s.unit, QUANTITIES[builtIn.quantity].canonical, `${where}: unit differs from signals.ts`);
        assert.ok(s.range[0] >= builtIn.range[0] && s.range[1] <= builtIn.range[1], `${where}: range outside the physically plausible one`);
      }
      assert.ok(Number.isFinite(s.range[0]) && s.range[0] < s.range[1], `${where}: range`);
      assert.ok(Number.isInteger(s.intervalMs) && s.intervalMs >= 100 && s.intervalMs <= 3_600_000, `${where}: interval`);
      assert.ok(s.description.length > 10, `${where}: description`);
    }
  }
});

test('the same signal has the same unit in every class', () => {
  const units = new Map<string, string>();
  for (const cls of classes) {
    for (const s of cls.signals) {
      assert.equal(units.get(s.signal) ?? s.unit, s.unit, `${s.signal} in ${cls.id}`);
      units.set(s.signal, s.unit);
    }
  }
});

test('every class has at least four failure modes, each revealed only by signals the class has', () => {
  for (const cls of classes) {
    assert.ok(cls.failureModes.length >= 4, `${cls.id} has ${cls.failureModes.length} failure modes`);
    const ids = cls.failureModes.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, `${cls.id}: duplicate failure mode id`);
    const signals = new Set(cls.signals.map((s) => s.signal));
    for (const mode of cls.failureModes) {
      const where = `${cls.id}/${mode.id}`;
      assert.match(mode.id, /^[a-z][a-z0-9_]*$/, where);
      assert.ok(mode.name.length > 3, where);
      assert.ok(mode.signals.length > 0, `${where}: no signals`);
      assert.equal(new Set(mode.signals).size, mode.signals.length, `${where}: duplicate signal`);
      for (const signal of mode.signals) assert.ok(signals.has(signal), `${where} names ${signal}, which a ${cls.id} does not have`);
      // A sentence a technician can act on: starts with a capital, ends with a full stop, says what to do.
      assert.match(mode.check, /^[A-Z].{40,}\.$/s, `${where}: check is not a sentence`);
      assert.match(mode.check, /\b(check|inspect|look|listen|measure|compare|schedule|read|walk|watch|time|clean|replace)\b/i, `${where}: check names no action`);
    }
  }
});

test('the failure modes the issue names are covered by the right classes', () => {
  const has = (id: string, mode: string) => ASSET_CLASSES[id as keyof typeof ASSET_CLASSES].failureModes.some((m) => m.id === mode);
  for (const id of ASSET_CLASS_IDS) for (const mode of ['bearing_wear', 'misalignment', 'looseness', 'overload']) assert.ok(has(id, mode), `${id} lacks ${mode}`);
  for (const [id, mode] of [
    ['motor', 'imbalance'], ['motor', 'overheating'], ['motor', 'insulation_ageing'],
    ['pump', 'cavitation'], ['pump', 'seal_leak'], ['pump', 'imbalance'],
    ['compressor', 'valve_wear'], ['compressor', 'blocked_filter'], ['compressor', 'overheating'],
    ['fan', 'imbalance'], ['fan', 'belt_slip'], ['fan', 'blocked_filter'],
    ['conveyor', 'belt_slip'],
    ['gearbox', 'gear_tooth_wear'], ['gearbox', 'lubrication'],
  ]) assert.ok(has(id, mode), `${id} lacks ${mode}`);
});

test('class-specific signals are where the issue puts them', () => {
  const unitOf = (id: keyof typeof ASSET_CLASSES, signal: string) => ASSET_CLASSES[id].signals.find((s) => s.signal === signal)?.unit;
  assert.equal(unitOf('pump', 'suction_pressure'), 'bar');
  assert.equal(unitOf('pump', 'discharge_pressure'), 'bar');
  assert.equal(unitOf('pump', 'flow'), 'm³/h');
  assert.equal(unitOf('compressor', 'discharge_pressure'), 'bar');
  assert.equal(unitOf('compressor', 'discharge_temperature'), '°C');
  assert.equal(unitOf('conveyor', 'belt_speed'), 'rpm');
  assert.equal(unitOf('gearbox', 'oil_temperature'), '°C');
  assert.equal(unitOf('motor', 'winding_temperature'), '°C');
  for (const id of ASSET_CLASS_IDS) {
    for (const [signal, unit] of [['vibration_velocity', 'mm/s'], ['vibration_acceleration', 'm/s²'], ['bearing_temperature', '°C'], ['current', 'A'], ['speed', 'rpm']]) {
      assert.equal(unitOf(id, signal), unit, `${id}.${signal}`);
    }
  }
});

test('presets: one ISO 10816 table per class, NEMA F, 5 % unbalance', () => {
  for (const cls of classes) {
    const id = vibrationPresetId(cls.presets.vibration);
    assert.ok(Object.prototype.hasOwnProperty.call(ZONE_PRESETS, id), `${cls.id}: ${id} is not a zone preset`);
    assert.equal(ZONE_PRESETS[id].standard, cls.presets.vibration.standard);
    assert.equal(cls.presets.insulationClass, 'F');
    assert.equal(cls.presets.currentUnbalanceLimitPct, 5);
  }
  assert.deepEqual(ASSET_CLASSES.motor.presets.vibration, { standard: 'ISO 10816-3', group: 2, foundation: 'rigid' });
  assert.deepEqual(ASSET_CLASSES.fan.presets.vibration, { standard: 'ISO 10816-1', machineClass: 'I' });
  assert.equal(vibrationPresetId({ standard: 'ISO 10816-3', group: 1, foundation: 'flexible' }), 'iso10816-3/group1-flexible');
  assert.deepEqual(INSULATION_LIMITS.F, { nominal: 145, max: 155 });
  assert.deepEqual(INSULATION_LIMITS.B, { nominal: 120, max: 130 });
});

test('state thresholds are ordered and tuned per class', () => {
  for (const cls of classes) {
    const t = cls.stateThresholds;
    assert.ok(0 <= t.offBelow && t.offBelow < t.idleBelow && t.idleBelow < 1 && 1 < t.overloadAbove, cls.id);
    assert.ok(t.startupMs >= 5000 && t.shutdownMs >= 1000, cls.id);
    assert.ok(t.speedRunningAbove > 0 && t.speedRunningAbove < 1, cls.id);
  }
  assert.deepEqual(ASSET_CLASSES.motor.stateThresholds, { offBelow: 0.05, idleBelow: 0.3, overloadAbove: 1.15, startupMs: 10000, shutdownMs: 5000, speedRunningAbove: 0.1 });
  assert.ok(ASSET_CLASSES.compressor.stateThresholds.startupMs > ASSET_CLASSES.motor.stateThresholds.startupMs);
  assert.ok(ASSET_CLASSES.fan.stateThresholds.startupMs > ASSET_CLASSES.motor.stateThresholds.startupMs);
});

test('the shared class objects cannot be changed by an asset', () => {
  const motor = ASSET_CLASSES.motor;
  assert.ok(Object.isFrozen(motor) && Object.isFrozen(motor.signals[0].range) && Object.isFrozen(motor.failureModes[0].signals));
  assert.throws(() => {
    (motor.stateThresholds as { offBelow: number }).offBelow = 0.5;
  }, TypeError);
  // Signals shared between classes are separate objects.
  assert.notEqual(ASSET_CLASSES.motor.signals[0], ASSET_CLASSES.pump.signals[0]);
});
