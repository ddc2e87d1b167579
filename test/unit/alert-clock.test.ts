/**
 * The alert engine's clock option: `wall` (an asset's time never lags the wall clock) and
 * `reading` (each asset's clock advances with its own data only; sites run on the newest event
 * time). Replayed data from the past, ticked by a wall clock years later.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEngine, type EngineOutput, type IngestOutcome } from '../../nodes/lib/alert/engine';
import type { SnapshotFeature, SnapshotInput } from '../../nodes/lib/alert/inputs';
import type { AlertEvent } from '../../nodes/lib/contracts/alert-event';
import { engineSettings } from '../../nodes/pdm-alert/settings';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
/** Replayed data: a day in 2020. The wall clock is whatever Date.now() says. */
const T0 = Date.UTC(2020, 2, 1, 8, 0, 0);
const WALL = Date.now();

function snap(t: number, limit: SnapshotFeature['limit'], assetId = 'M-1'): SnapshotInput {
  return {
    assetId,
    state: 'running',
    since: T0 - HOUR,
    features: { vibration_velocity: { value: limit === 'normal' ? 1 : 3.1, stale: false, quality: 'good', limit } },
    updatedAt: t,
    assetClass: 'motor',
    path: { site: 'plant1', area: 'utilities', line: 'l1' },
  };
}

function harness(clock: 'wall' | 'reading') {
  const engine = new AlertEngine({ clock, tiers: { warning: { onDelayMs: 5 * MIN }, clear: { offDelayMs: 2 * MIN } } });
  const events: AlertEvent[] = [];
  const take = (out: EngineOutput) => events.push(...out.events);
  const ok = (o: IngestOutcome) => {
    assert.ok(o.ok, JSON.stringify(o));
    take(o.output);
  };
  return {
    engine,
    events,
    /** A snapshot arrives now (wall) carrying its event time. */
    snap: (t: number, limit: SnapshotFeature['limit'], id = 'M-1') => ok(engine.ingestSnapshot(snap(t, limit, id), WALL)),
    tick: (wall = WALL) => take(engine.tick(wall)),
    cmd: (c: Record<string, unknown>) => {
      const r = engine.command(c as never, WALL);
      assert.ok(r.ok, JSON.stringify(r));
      take(r.output);
    },
    trail: (id = 'M-1') => events.filter((e) => e.assetId === id).map((e) => `${e.transition}:${e.tier ?? '-'}`),
  };
}

describe('alert clock', () => {
  it('wall clock (unchanged): replayed data ages by the wall clock, so a tick escalates at once', () => {
    const h = harness('wall');
    h.snap(T0, 'warning');
    h.tick();
    assert.deepEqual(h.trail(), ['raised:watch', 'escalated:warning']);
  });

  it('reading time: persistence is measured in the asset’s own data time, never by the wall clock', () => {
    const h = harness('reading');
    h.snap(T0, 'warning');
    for (let i = 0; i < 5; i++) h.tick(WALL + i * HOUR);
    assert.deepEqual(h.trail(), ['raised:watch'], 'ticks of the wall clock do not age the alert');
    h.snap(T0 + 4 * MIN, 'warning');
    h.tick();
    assert.deepEqual(h.trail(), ['raised:watch'], '4 min of data time < 5 min on-delay');
    h.snap(T0 + 5 * MIN, 'warning');
    assert.deepEqual(h.trail(), ['raised:watch', 'escalated:warning']);
    assert.equal(h.events.at(-1)!.ts, T0 + 5 * MIN);
    assert.deepEqual(h.events.at(-1)!.evidence.persistence?.activeForMs, 5 * MIN);
  });

  it('reading time is per asset: an asset whose source lags is not aged by a faster one, nor the other way round', () => {
    const h = harness('reading');
    h.snap(T0, 'warning', 'LAG');
    h.snap(T0 + 2 * HOUR, 'warning', 'FAST');
    h.tick();
    assert.deepEqual(h.trail('LAG'), ['raised:watch'], 'the lagging asset is judged by its own clock');
    h.snap(T0 + 2 * HOUR + 5 * MIN, 'warning', 'FAST');
    assert.deepEqual(h.trail('FAST'), ['raised:watch', 'escalated:warning']);
    assert.deepEqual(h.trail('LAG'), ['raised:watch']);
    assert.equal(h.engine.asset('LAG')!.clock, T0);
  });

  it('reading time: shelving expires and acknowledgements are stamped on the asset’s clock', () => {
    const h = harness('reading');
    h.snap(T0, 'warning');
    h.cmd({ command: 'shelve', assetId: 'M-1', payload: {}, forMs: 10 * MIN });
    const shelved = h.events.at(-1)!;
    assert.equal(shelved.transition, 'shelved');
    assert.deepEqual(shelved.alarm.shelved, { kind: 'timed', since: T0, until: T0 + 10 * MIN });
    h.tick(WALL + 24 * HOUR);
    assert.equal(h.events.at(-1)!.transition, 'shelved', 'a day of wall clock does not end a 10-minute shelving of replayed data');
    h.snap(T0 + 9 * MIN, 'warning');
    h.tick();
    assert.ok(!h.events.some((e) => e.transition === 'unshelved'));
    h.snap(T0 + 10 * MIN, 'warning');
    h.tick();
    const unshelved = h.events.find((e) => e.transition === 'unshelved')!;
    assert.ok(unshelved, 'unshelved once the asset’s data reached the end of the shelving');
    assert.equal(unshelved.ts, T0 + 10 * MIN);
    h.cmd({ command: 'acknowledge', assetId: 'M-1' });
    const acked = h.events.at(-1)!;
    assert.equal(acked.transition, 'acknowledged');
    assert.equal(acked.ts, T0 + 10 * MIN);
    assert.equal(h.engine.asset('M-1')!.points.bearing_wear?.episode?.ackedAt ?? h.engine.openEpisodes()[0].episode.ackedAt, T0 + 10 * MIN);
  });

  it('reading time: KPI intervals and floods run on the newest event time, not the wall clock', () => {
    const h = harness('reading');
    const kpis: unknown[] = [];
    h.snap(T0, 'warning');
    kpis.push(...h.engine.tick(WALL + 3 * HOUR).kpis);
    assert.equal(kpis.length, 0, 'no KPI report: an hour has not passed in event time');
    h.snap(T0 + HOUR + MIN, 'normal');
    kpis.push(...h.engine.tick(WALL).kpis);
    assert.equal(kpis.length, 1, 'the hour boundary passed in event time');
  });

  it('the node field maps to the engine and refuses other values', () => {
    assert.equal(engineSettings({}).config.clock, 'wall');
    assert.equal(engineSettings({ clock: 'reading' }).config.clock, 'reading');
    assert.deepEqual(engineSettings({ clock: 'sundial' }).errors, ['clock must be wall or reading']);
  });
});
