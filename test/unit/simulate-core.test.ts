/**
 * The plant simulator core: determinism, physics (inrush, thermal lag, healthy vibration zones,
 * pump curve), fault progression and ground truth, schedules and configuration errors.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_ASSETS,
  HOUR_MS,
  PROFILES,
  PlantSimulator,
  SimConfigError,
  parseAssets,
  severityAt,
  type SimAssetConfig,
  type TruthEvent,
} from '../../nodes/lib/simulate';
import { ASSET_CLASSES, vibrationPresetId } from '../../nodes/lib/assets/classes';
import { zoneOf } from '../../nodes/lib/retrofit/zones';
import { validateReading, type Reading } from '../../nodes/lib/contracts/reading';
import { signalDef } from '../../nodes/lib/signals';

/** Monday 2 June 2025, 00:00 UTC. */
const MONDAY = Date.UTC(2025, 5, 2);
const MIN = 60_000;

function sim(assets: SimAssetConfig[] | undefined, options: { seed?: number; start?: number; shifts?: boolean; sampleSec?: number } = {}) {
  return new PlantSimulator({ seed: options.seed ?? 1, start: options.start ?? MONDAY, assets, shifts: options.shifts, sampleSec: options.sampleSec });
}
const series = (readings: Reading[], assetId: string, signal: string) => readings.filter((r) => r.assetId === assetId && r.signal === signal);
const motor = (extra: Partial<SimAssetConfig> = {}): SimAssetConfig => ({ id: 'M-1', assetClass: 'motor', nameplate: { ratedCurrentA: 55, ratedPowerKW: 30, ratedSpeedRpm: 1480, ratedVoltageV: 400 }, schedule: 'continuous', load: 0.8, ...extra });

describe('simulator determinism', () => {
  it('the same seed and configuration give byte-identical readings and events; another seed does not', () => {
    const run = (seed: number) => {
      const s = sim(undefined, { seed });
      const b = s.advanceTo(MONDAY + 2 * HOUR_MS);
      return JSON.stringify({ readings: b.readings, events: b.events });
    };
    const a = run(42);
    assert.equal(run(42), a);
    assert.ok(a.length > 1_000_000, 'two hours of six assets is a lot of readings');
    assert.notEqual(run(43), a);
  });

  it('gives the same readings however simulated time is sliced into ticks', () => {
    const whole = sim(undefined, { seed: 5 }).advanceTo(MONDAY + HOUR_MS);
    const s = sim(undefined, { seed: 5 });
    const readings: Reading[] = [];
    const events: TruthEvent[] = [];
    for (let t = MONDAY - 1000, k = 1; t < MONDAY + HOUR_MS; k++) {
      t = Math.min(MONDAY + HOUR_MS, t + ((k * 7919) % 97) * 1000 + 500);
      const b = s.advanceTo(t);
      readings.push(...b.readings);
      events.push(...b.events);
    }
    assert.equal(JSON.stringify(readings), JSON.stringify(whole.readings));
    assert.equal(JSON.stringify(events), JSON.stringify(whole.events));
  });

  it('each asset has its own random streams: adding assets or faults elsewhere changes nothing for it', () => {
    const alone = sim([DEFAULT_ASSETS[0]]).advanceTo(MONDAY + HOUR_MS);
    const withOthers = sim(DEFAULT_ASSETS.map((a) => (a.id === 'P-101' ? { ...a, faults: [{ type: 'cavitation' as const, onsetHours: 0, durationHours: 1 }] } : a))).advanceTo(MONDAY + HOUR_MS);
    assert.deepEqual(withOthers.readings.filter((r) => r.assetId === 'M-101'), alone.readings);
  });

  it('emits valid contract readings, in canonical units and inside every plausible range, on each signal grid', () => {
    const s = sim(undefined, { seed: 9 });
    const b = s.advanceTo(MONDAY + 6 * HOUR_MS);
    for (const r of b.readings) {
      assert.ok(validateReading(r), JSON.stringify(r));
      const cls = ASSET_CLASSES[s.assets.find((a) => a.resolved.id === r.assetId)!.assetClass];
      const spec = cls.signals.find((x) => x.signal === r.signal)!;
      assert.equal(r.unit, spec.unit);
      const [lo, hi] = signalDef(r.signal)!.range;
      assert.ok(r.value >= Math.max(lo, spec.range[0]) && r.value <= Math.min(hi, spec.range[1]), `${r.assetId} ${r.signal} ${r.value} outside ${spec.range}`);
      assert.equal((r.ts - MONDAY) % spec.intervalMs, 0, `${r.signal} off its ${spec.intervalMs} ms grid`);
    }
    // 6 h of a motor: current every second, vibration every 10 s, temperatures every minute.
    assert.equal(series(b.readings, 'M-101', 'current').length, 6 * 3600 + 1);
    assert.equal(series(b.readings, 'M-101', 'vibration_velocity').length, 6 * 360 + 1);
    assert.equal(series(b.readings, 'M-101', 'winding_temperature').length, 6 * 60 + 1);
    const every5 = sim(undefined, { sampleSec: 5 }).advanceTo(MONDAY + HOUR_MS);
    assert.equal(series(every5.readings, 'G-101', 'oil_temperature').length, 721);
  });
});

describe('simulated physics', () => {
  it('draws about 6× rated current for 2–3 s at every start, then settles to the running current', () => {
    const s = sim(undefined, { seed: 3 });
    const b = s.advanceTo(MONDAY + 24 * HOUR_MS);
    let starts = 0;
    for (const asset of s.fleet()) {
      const rated = asset.nameplate!.ratedCurrentA!;
      const current = series(b.readings, asset.id, 'current');
      for (let i = 1; i < current.length - 5; i++) {
        if (current[i - 1].value < 0.05 * rated && current[i].value >= 0.05 * rated) {
          starts++;
          const startS = PROFILES[s.assets.find((a) => a.resolved.id === asset.id)!.assetClass].startS;
          for (let k = 0; k < startS; k++) {
            assert.ok(current[i + k].value >= 5 * rated && current[i + k].value <= 6.5 * rated, `${asset.id} inrush ${current[i + k].value} A at +${k} s`);
          }
          assert.ok(current[i + startS].value < 1.3 * rated, `${asset.id} still at ${current[i + startS].value} A ${startS} s after the start`);
        }
      }
    }
    assert.ok(starts >= 15, `only ${starts} starts in a simulated day`);
  });

  it('ramps speed during run-up and coasts down after a stop', () => {
    // The belt breaks (failure) at 72 s: the fan trips and coasts down with its 20 s time constant.
    const s = sim([{ id: 'F-1', assetClass: 'fan', schedule: 'continuous', load: 0.9, faults: [{ type: 'belt_slip', onsetHours: 0.01, durationHours: 0.01 }] }]);
    const b = s.advanceTo(MONDAY + 120_000);
    const speed = series(b.readings, 'F-1', 'speed').map((r) => r.value);
    assert.ok(speed[0] < 1 && speed[1] < 1, 'standing still at the start and when switched on');
    assert.ok(speed[2] > 100 && speed[2] < speed[3] && speed[3] < speed[4], `run-up ${speed.slice(0, 6)}`);
    assert.ok(Math.abs(speed[4] - 1460 * 0.996) < 10, `at speed after the 3 s run-up: ${speed[4]}`);
    assert.ok(Math.abs(speed[9] - 1460 * 0.996) < 10, `running speed ${speed[9]}`);
    const atTrip = speed[71];
    assert.ok(Math.abs(speed[72 + 20] / atTrip - Math.exp(-1)) < 0.03, `coast-down ${speed[72 + 20]} of ${atTrip}`);
    assert.ok(series(b.readings, 'F-1', 'current')[73].value < 0.05 * 14.5, 'no current after the trip');
  });

  it('heats a winding with a first-order time constant: 63 % of the step after τ', () => {
    // 15:00 UTC: the ambient (daily sine) is at its flat peak, so it barely moves during τ.
    const start = MONDAY + 15 * HOUR_MS;
    const s = sim([motor()], { start });
    const tau = PROFILES.motor.tau.winding! * 1000;
    const c = PROFILES.motor.noLoadCurrent + (1 - PROFILES.motor.noLoadCurrent) * 0.8;
    const riseSteady = PROFILES.motor.rise.winding! * c * c;
    s.advanceTo(start + 1000);
    const t0 = s.state('M-1')!;
    assert.equal(t0.phase, 'starting');
    const rise0 = t0.temperatures.winding - t0.ambient;
    const batch = s.advanceTo(start + 1000 + tau);
    const t1 = s.state('M-1')!;
    const fraction = (t1.temperatures.winding - t1.ambient - rise0) / (riseSteady - rise0);
    assert.ok(Math.abs(fraction - (1 - Math.exp(-1))) < 0.01, `after τ the winding covered ${(fraction * 100).toFixed(2)} % of its rise`);
    // The same in the readings a sensor reports (noise 0.08 °C).
    const readings = series(batch.readings, 'M-1', 'winding_temperature');
    const atTau = readings.find((r) => r.ts === start + tau)!;
    const measured = (atTau.value - t1.ambient) / riseSteady;
    assert.ok(Math.abs(measured - 0.632) < 0.02, `reading after τ: ${(measured * 100).toFixed(1)} % of the rise`);
    // And close to steady state after 5 τ.
    s.advanceTo(start + 1000 + 5 * tau);
    const t5 = s.state('M-1')!;
    assert.ok(Math.abs(t5.temperatures.winding - t5.ambient - riseSteady) < 0.02 * riseSteady);
  });

  for (const cls of ['motor', 'pump', 'compressor', 'fan', 'conveyor', 'gearbox'] as const) {
    it(`a healthy ${cls} vibrates in ISO zone A or B of its class preset, through starts, stops and load changes`, () => {
      const preset = vibrationPresetId(ASSET_CLASSES[cls].presets.vibration);
      const zones = { A: 0, B: 0, C: 0, D: 0 };
      for (const seed of [1, 2, 3]) {
        const s = sim([{ id: 'X-1', assetClass: cls, sensors: ['vibration_velocity'] }], { seed });
        const b = s.advanceTo(MONDAY + 24 * HOUR_MS);
        for (const r of series(b.readings, 'X-1', 'vibration_velocity')) zones[zoneOf(r.value, preset).zone]++;
      }
      assert.equal(zones.C + zones.D, 0, `${cls} (${preset}): ${JSON.stringify(zones)}`);
      assert.ok(zones.A > 0, `${cls}: never in zone A: ${JSON.stringify(zones)}`);
    });
  }

  it('a pump follows its curve: throttling the valve lowers flow and raises discharge pressure', () => {
    const s = sim([
      { id: 'P-open', assetClass: 'pump', schedule: 'continuous', load: 1 },
      { id: 'P-throttled', assetClass: 'pump', schedule: 'continuous', load: 0.5 },
    ]);
    s.advanceTo(MONDAY + 10 * MIN);
    const open = s.state('P-open')!.pump!;
    const throttled = s.state('P-throttled')!.pump!;
    assert.ok(throttled.flow < 0.75 * open.flow, `flow ${throttled.flow} vs ${open.flow}`);
    assert.ok(throttled.discharge > open.discharge + 0.5, `discharge ${throttled.discharge} vs ${open.discharge}`);
    assert.ok(s.state('P-throttled')!.currentA < s.state('P-open')!.currentA, 'less flow, less power');
  });

  it('a compressor loads and unloads on its receiver pressure band', () => {
    const s = sim([{ id: 'C-1', assetClass: 'compressor', load: 0.5 }]);
    const b = s.advanceTo(MONDAY + 2 * HOUR_MS);
    const p = series(b.readings, 'C-1', 'discharge_pressure').slice(600).map((r) => r.value);
    assert.ok(Math.min(...p) > 6.3 && Math.max(...p) < 7.7, `pressure ${Math.min(...p)}..${Math.max(...p)}`);
    const current = series(b.readings, 'C-1', 'current').slice(600).map((r) => r.value / 68);
    assert.ok(current.some((c) => c < 0.45) && current.some((c) => c > 0.9), 'both unloaded (idle) and loaded');
  });
});

describe('injected faults and ground truth', () => {
  it('bearing wear grows monotonically over hours, acceleration first, and ends in a failure at onset + duration', () => {
    const s = sim([{ id: 'P-1', assetClass: 'pump', schedule: 'continuous', load: 0.8, faults: [{ type: 'bearing_wear', onsetHours: 1, durationHours: 10, repairHours: 2 }] }]);
    const hourly: ReturnType<typeof s.state>[] = [];
    const events: TruthEvent[] = [];
    for (let h = 1; h <= 14; h++) {
      events.push(...s.advanceTo(MONDAY + h * HOUR_MS - 60_000).events);
      hourly.push(s.state('P-1'));
    }
    const onset = MONDAY + HOUR_MS;
    const failureAt = MONDAY + 11 * HOUR_MS;
    assert.deepEqual(events.slice(0, 2).map((e) => [e.event, e.ts]), [['scheduled', MONDAY], ['onset', onset]]);
    assert.equal(events[0].failureAt, failureAt);
    const progress = events.filter((e) => e.event === 'progress');
    assert.deepEqual(progress.map((e) => Math.floor(e.severity * 10)), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(progress.every((e, i) => i === 0 || e.ts > progress[i - 1].ts));
    const failure = events.find((e) => e.event === 'failure')!;
    assert.equal(failure.ts, failureAt);
    assert.equal(failure.severity, 1);
    assert.equal(events.find((e) => e.event === 'repaired')!.ts, failureAt + 2 * HOUR_MS);

    const during = hourly.slice(0, 11).map((st) => st!); // 00:59 … 10:59, all before failure
    for (let i = 1; i < during.length; i++) {
      assert.ok(during[i].severity.bearing_wear >= during[i - 1].severity.bearing_wear);
      assert.ok(during[i].vibration.total >= during[i - 1].vibration.total, `velocity fell at hour ${i}`);
      assert.ok(during[i].accelerationRms >= during[i - 1].accelerationRms, `acceleration fell at hour ${i}`);
    }
    // P–F curve: halfway through, acceleration has clearly risen while velocity is still in zone A/B.
    const half = during[5];
    assert.ok(half.accelerationRms > 2.5 * during[0].accelerationRms);
    assert.ok(zoneOf(half.vibration.total, 'iso10816-3/group2-rigid').zone <= 'B');
    // A minute before failure: zone D and a hot bearing.
    const before = during[10];
    assert.equal(zoneOf(before.vibration.total, 'iso10816-3/group2-rigid').zone, 'D');
    assert.ok(before.temperatures.bearing - during[0].temperatures.bearing > 15);
    // After the failure the pump is down until the repair, then healthy again.
    assert.equal(hourly[11]!.phase, 'off');
    assert.equal(hourly[11]!.tripped, true);
    assert.equal(hourly[13]!.phase, 'running');
    assert.ok(hourly[13]!.vibration.total < 2.8 && hourly[13]!.severity.bearing_wear === 0);
  });

  it('severity curves: bearing wear follows the P–F curve, overload builds fast then holds', () => {
    assert.equal(severityAt('bearing_wear', 0), 0);
    assert.equal(severityAt('bearing_wear', 1), 1);
    assert.ok(severityAt('bearing_wear', 0.5) < 0.25);
    assert.equal(severityAt('overload', 0.1), 1);
    assert.equal(severityAt('imbalance', 0.4), 0.4);
    assert.equal(severityAt('stuck_sensor', 0.01), 1);
  });

  it('imbalance raises 1×, misalignment raises 2× and the bearing temperature', () => {
    const s = sim([
      motor({ id: 'healthy' }),
      motor({ id: 'imb', faults: [{ type: 'imbalance', onsetHours: 0, durationHours: 2 }] }),
      motor({ id: 'mis', faults: [{ type: 'misalignment', onsetHours: 0, durationHours: 2 }] }),
    ]);
    s.advanceTo(MONDAY + 2 * HOUR_MS - 60_000);
    const [h, imb, mis] = ['healthy', 'imb', 'mis'].map((id) => s.state(id)!);
    const ratio2 = imb.vibration.twoX / h.vibration.twoX;
    assert.ok(imb.vibration.oneX > 3 * h.vibration.oneX && ratio2 > 0.6 && ratio2 < 1.5, JSON.stringify(imb.vibration));
    assert.ok(mis.vibration.twoX > 5 * h.vibration.twoX, JSON.stringify(mis.vibration));
    const rise = (st: typeof h) => st.temperatures.bearing - st.ambient;
    assert.ok(rise(mis) > rise(h) + 7, `bearing rise ${rise(mis)} vs ${rise(h)}`);
  });

  it('overload drives the current above the overload threshold for its duration, then it recovers', () => {
    const s = sim([motor({ faults: [{ type: 'overload', onsetHours: 1, durationHours: 1 }] })]);
    const b = s.advanceTo(MONDAY + 3 * HOUR_MS);
    const cur = series(b.readings, 'M-1', 'current');
    const at = (min: number) => cur.find((r) => r.ts === MONDAY + min * MIN)!.value / 55;
    assert.ok(at(50) < 0.9);
    for (const m of [70, 90, 119]) assert.ok(at(m) > ASSET_CLASSES.motor.stateThresholds.overloadAbove, `current ${at(m)} × rated at minute ${m}`);
    assert.ok(at(150) < 0.9);
    assert.deepEqual(b.events.map((e) => e.event).filter((e) => e !== 'progress'), ['scheduled', 'onset', 'end']);
  });

  it('belt slip drops the belt speed below the drive speed (conveyor) and the fan speed (fan), then breaks', () => {
    const s = sim([
      { id: 'CV-1', assetClass: 'conveyor', schedule: 'continuous', load: 0.6, faults: [{ type: 'belt_slip', onsetHours: 0, durationHours: 4 }] },
      { id: 'F-1', assetClass: 'fan', schedule: 'continuous', load: 0.9, faults: [{ type: 'belt_slip', onsetHours: 0, durationHours: 4 }] },
    ]);
    s.advanceTo(MONDAY + 10 * MIN);
    const cv0 = s.state('CV-1')!;
    const fan0 = s.state('F-1')!;
    s.advanceTo(MONDAY + 4 * HOUR_MS - MIN);
    const cv1 = s.state('CV-1')!;
    const fan1 = s.state('F-1')!;
    assert.ok(cv0.slip < 0.01 && cv1.slip > 0.1, `conveyor slip ${cv0.slip} → ${cv1.slip}`);
    assert.ok(fan1.speedRpm < 0.9 * fan0.speedRpm && fan1.currentA < fan0.currentA, 'fan slows and unloads');
    const b = s.advanceTo(MONDAY + 4 * HOUR_MS + MIN);
    assert.deepEqual(b.events.filter((e) => e.event === 'failure').map((e) => e.assetId).sort(), ['CV-1', 'F-1']);
  });

  it('cavitation: suction and flow down, discharge pressure noisy, vibration and acceleration up', () => {
    const s = sim([
      { id: 'ok', assetClass: 'pump', schedule: 'continuous', load: 0.9 },
      { id: 'cav', assetClass: 'pump', schedule: 'continuous', load: 0.9, faults: [{ type: 'cavitation', onsetHours: 1, durationHours: 2 }] },
    ]);
    const b = s.advanceTo(MONDAY + 3 * HOUR_MS - 5 * MIN);
    const window = (id: string, signal: string) => series(b.readings, id, signal).filter((r) => r.ts > MONDAY + 2.5 * HOUR_MS).map((r) => r.value);
    const mean = (v: number[]) => v.reduce((a, x) => a + x, 0) / v.length;
    const sd = (v: number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
    assert.ok(mean(window('cav', 'flow')) < 0.8 * mean(window('ok', 'flow')));
    assert.ok(mean(window('cav', 'suction_pressure')) < mean(window('ok', 'suction_pressure')) - 0.4);
    assert.ok(sd(window('cav', 'discharge_pressure')) > 10 * sd(window('ok', 'discharge_pressure')));
    assert.ok(mean(window('cav', 'vibration_velocity')) > 2 * mean(window('ok', 'vibration_velocity')));
    assert.ok(mean(window('cav', 'vibration_acceleration')) > 3 * mean(window('ok', 'vibration_acceleration')));
  });

  it('sensor faults change only what the sensor reports: drift, stuck value, dropouts', () => {
    const faults: SimAssetConfig['faults'] = [
      { type: 'sensor_drift', signal: 'bearing_temperature', onsetHours: 0.5, durationHours: 1, amount: 12 },
      { type: 'stuck_sensor', signal: 'current', onsetHours: 0.5, durationHours: 0.25 },
      { type: 'dropout', signal: 'speed', onsetHours: 1, durationHours: 0.5 },
      { type: 'dropout', onsetHours: 2, durationHours: 0.1 },
    ];
    const clean = sim([motor()]).advanceTo(MONDAY + 3 * HOUR_MS).readings;
    const faulty = sim([motor({ faults })]).advanceTo(MONDAY + 3 * HOUR_MS).readings;
    const key = (r: Reading) => `${r.signal}@${r.ts}`;
    const cleanBy = new Map(clean.map((r) => [key(r), r.value]));
    // Drift: the offset grows linearly to `amount` over the hour.
    for (const r of series(faulty, 'M-1', 'bearing_temperature')) {
      const x = Math.min(1, Math.max(0, (r.ts - MONDAY - 0.5 * HOUR_MS) / HOUR_MS));
      const expected = r.ts >= MONDAY + 1.5 * HOUR_MS ? 0 : 12 * x;
      assert.ok(Math.abs(r.value - cleanBy.get(key(r))! - expected) < 0.011, `drift at ${(r.ts - MONDAY) / MIN} min`);
    }
    // Stuck: one value repeated for the whole episode, live again after.
    const stuck = series(faulty, 'M-1', 'current').filter((r) => r.ts > MONDAY + 0.5 * HOUR_MS && r.ts < MONDAY + 0.75 * HOUR_MS);
    assert.equal(new Set(stuck.map((r) => r.value)).size, 1);
    assert.equal(stuck.length, 899);
    // Dropouts: speed missing for 30 min; everything missing for 6 min.
    const speedGap = series(faulty, 'M-1', 'speed').filter((r) => r.ts > MONDAY + HOUR_MS && r.ts < MONDAY + 1.5 * HOUR_MS);
    assert.equal(speedGap.length, 0);
    const outage = faulty.filter((r) => r.ts > MONDAY + 2 * HOUR_MS && r.ts < MONDAY + 2.1 * HOUR_MS);
    assert.equal(outage.length, 0);
    // Everything else is untouched.
    const others = faulty.filter((r) => !['bearing_temperature', 'current', 'speed'].includes(r.signal) && !(r.ts >= MONDAY + 2 * HOUR_MS && r.ts < MONDAY + 2.1 * HOUR_MS));
    assert.ok(others.length > 5_000);
    for (const r of others) assert.equal(r.value, cleanBy.get(key(r)), key(r));
  });

  it('a partial dropout loses about `rate` of the readings', () => {
    const b = sim([motor({ faults: [{ type: 'dropout', signal: 'current', rate: 0.3, onsetHours: 0, durationHours: 1 }] })]).advanceTo(MONDAY + HOUR_MS - 1000);
    const kept = series(b.readings, 'M-1', 'current').length - 1;
    assert.ok(kept > 3600 * 0.65 && kept < 3600 * 0.75, `kept ${kept} of 3600`);
  });

  it('injects a fault into a running simulation, counting onset from the current simulated time', () => {
    const s = sim(undefined);
    s.advanceTo(MONDAY + HOUR_MS);
    const truth = s.injectFault('M-101', { type: 'imbalance', onsetHours: 0.5, durationHours: 1 });
    assert.equal(truth.onset, MONDAY + 1.5 * HOUR_MS);
    assert.equal(truth.failureAt, MONDAY + 2.5 * HOUR_MS);
    const b = s.advanceTo(MONDAY + 3 * HOUR_MS);
    const mine = b.events.filter((e) => e.faultId === truth.faultId);
    assert.equal(mine[0].event, 'scheduled');
    assert.equal(mine[0].ts, MONDAY + HOUR_MS);
    assert.deepEqual(mine.filter((e) => e.event !== 'progress').map((e) => [e.event, e.ts]), [
      ['scheduled', MONDAY + HOUR_MS],
      ['onset', MONDAY + 1.5 * HOUR_MS],
      ['failure', MONDAY + 2.5 * HOUR_MS],
    ]);
    assert.equal(s.truth().find((f) => f.faultId === truth.faultId)!.phase, 'failed');
    assert.throws(() => s.injectFault('M-101', { type: 'cavitation', onsetHours: 0, durationHours: 1 }), (e: unknown) => e instanceof SimConfigError && e.code === 'invalid_fault');
    assert.throws(() => s.injectFault('nope', { type: 'imbalance', onsetHours: 0, durationHours: 1 }), /no simulated asset/);
  });
});

describe('schedules and configuration', () => {
  it('with the shift pattern, machines run 06:00–22:00 on weekdays and stand still at night and at weekends', () => {
    const s = sim(DEFAULT_ASSETS.map((a) => ({ ...a, faults: [] })), { shifts: true, sampleSec: 60 });
    const b = s.advanceTo(MONDAY + 24 * HOUR_MS);
    const rated = new Map(s.fleet().map((a) => [a.id, a.nameplate!.ratedCurrentA!]));
    const runningAt = (ts: number) => b.readings.filter((r) => r.signal === 'current' && r.ts === ts && r.value > 0.05 * rated.get(r.assetId)!).map((r) => r.assetId);
    assert.deepEqual(runningAt(MONDAY + 3 * HOUR_MS), []);
    assert.deepEqual(runningAt(MONDAY + 23 * HOUR_MS), []);
    assert.ok(runningAt(MONDAY + 10 * HOUR_MS).length >= 4, `running at 10:00: ${runningAt(MONDAY + 10 * HOUR_MS)}`);
    assert.ok(!runningAt(MONDAY + 12 * HOUR_MS + 15 * MIN).includes('CV-101'), 'the conveyor stops for lunch');
    const saturday = sim(DEFAULT_ASSETS.map((a) => ({ ...a, faults: [] })), { shifts: true, sampleSec: 60, start: MONDAY + 5 * 24 * HOUR_MS });
    const sat = saturday.advanceTo(MONDAY + 5 * 24 * HOUR_MS + 12 * HOUR_MS);
    assert.ok(sat.readings.filter((r) => r.signal === 'current').every((r) => r.value < 0.05 * rated.get(r.assetId)!));
  });

  it('the default plant has one asset per class, complete nameplates and a scheduled bearing fault', () => {
    const s = sim(undefined);
    assert.deepEqual(s.assets.map((a) => a.assetClass), ['motor', 'pump', 'compressor', 'fan', 'conveyor', 'gearbox']);
    for (const a of s.fleet()) assert.deepEqual(Object.keys(a.nameplate!).sort(), ['ratedCurrentA', 'ratedPowerKW', 'ratedSpeedRpm', 'ratedVoltageV']);
    assert.deepEqual(s.truth().map((f) => [f.assetId, f.fault, f.phase]), [['P-101', 'bearing_wear', 'pending']]);
    assert.deepEqual(parseAssets('').map((a) => a.resolved.id), ['M-101', 'P-101', 'C-101', 'F-101', 'CV-101', 'G-101']);
  });

  it('fills a missing rated current from power and voltage', () => {
    const s = sim([{ id: 'M-9', assetClass: 'motor', nameplate: { ratedPowerKW: 75, ratedVoltageV: 690 } }]);
    const np = s.fleet()[0].nameplate!;
    assert.ok(np.ratedCurrentA! > 70 && np.ratedCurrentA! < 85, `${np.ratedCurrentA} A`);
  });

  it('refuses bad configurations with a code that names the problem', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof SimConfigError, String(e));
        return `${e.code}: ${e.message}`;
      }
      return 'no error';
    };
    assert.match(code(() => parseAssets('[{')), /^invalid_json/);
    assert.match(code(() => parseAssets('[]')), /^invalid_assets/);
    assert.match(code(() => parseAssets('[{"id":"X","assetClass":"toaster"}]')), /^invalid_asset: .*unknown asset class "toaster"/);
    assert.match(code(() => parseAssets('[{"id":"X","assetClass":"fan"},{"id":"X","assetClass":"pump"}]')), /^duplicate_asset/);
    assert.match(code(() => parseAssets('[{"id":"X","assetClass":"motor","sensors":["flow"]}]')), /^unsupported_signal/);
    assert.match(code(() => parseAssets('[{"id":"X","assetClass":"motor","faults":[{"type":"cavitation","onsetHours":1,"durationHours":1}]}]')), /^invalid_fault: .*applies to pump/);
    assert.match(code(() => parseAssets('[{"id":"X","assetClass":"motor","faults":[{"type":"sensor_drift","onsetHours":1,"durationHours":1}]}]')), /^invalid_fault: .*needs the signal/);
    assert.match(code(() => parseAssets('[{"id":"X","assetClass":"motor","faults":[{"type":"imbalance","onsetHours":-1,"durationHours":1}]}]')), /onsetHours/);
    assert.match(code(() => parseAssets('[{"id":"X","assetClass":"motor","load":3}]')), /load/);
    assert.match(code(() => new PlantSimulator({ start: MONDAY, sampleSec: 0.5 })), /^invalid_option: sampleSec/);
    assert.match(code(() => new PlantSimulator({ start: MONDAY, seed: 1.5 })), /^invalid_option: seed/);
    // Only selected sensors are simulated.
    const s = sim([{ id: 'M-2', assetClass: 'motor', sensors: ['current', 'vibration_velocity'] }]);
    assert.deepEqual([...new Set(s.advanceTo(MONDAY + 60_000).readings.map((r) => r.signal))], ['current', 'vibration_velocity']);
  });
});
