/**
 * Property-based fuzzing of pdm-normalise in a real runtime: ≥ 10,000 generated messages,
 * valid and malformed. Nothing may crash, and every input reading must be accounted for:
 * in = clean + rejected + duplicates.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { helper, nodeModule } from '../helpers/node-red';
import { validateReading } from '../../nodes/lib/contracts/reading';
import { describeErrors } from '../../nodes/lib/contracts/ajv';

const normaliseNode = nodeModule('pdm-normalise');
const RUNS = 10_000;
const NOW = Date.now();

const signal = fc.oneof(
  fc.constantFrom('temperature', 'vibration_velocity', 'current', 'pressure', 'flow', 'speed', 'power', 'humidity'),
  fc.string({ maxLength: 12 }),
);
const unit = fc.oneof(fc.constantFrom('°C', '°F', 'K', 'mm/s', 'in/s', 'A', 'mA', 'bar', 'psi', 'l/min', 'rpm', 'Hz', 'kW', 'hp', '%'), fc.string({ maxLength: 6 }), fc.constant(undefined));
const value = fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.object());
const ts = fc.oneof(
  fc.integer({ min: NOW - 86_400_000, max: NOW }),
  fc.integer({ min: Math.floor((NOW - 86_400_000) / 1000), max: Math.floor(NOW / 1000) }),
  fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'not a date' : d.toISOString())),
  fc.double(),
  fc.constant(undefined),
);
const assetId = fc.oneof(fc.constantFrom('P-101', 'M-7', 'C-3'), fc.string({ maxLength: 10 }), fc.integer(), fc.constant(undefined));
const quality = fc.oneof(fc.constantFrom('good', 'uncertain', 'bad', 'GOOD'), fc.anything(), fc.constant(undefined));

/** Any field may be anything: mostly malformed readings. */
const malformed = fc.record({ assetId, signal, value, unit, ts, quality }, { requiredKeys: [] });
/** Readings that should pass: a signal with one of its own units, a finite value, a past timestamp. */
const valid = fc
  .record({
    pair: fc.constantFrom(['temperature', '°F'], ['temperature', 'K'], ['vibration_velocity', 'in/s'], ['current', 'A'], ['pressure', 'psi'], ['flow', 'l/min'], ['speed', 'Hz'], ['power', 'hp'], ['humidity', '%']),
    assetId: fc.constantFrom('P-101', 'M-7', 'C-3', 'F-12'),
    value: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    ts: fc.integer({ min: NOW - 86_400_000, max: NOW }),
  })
  .map(({ pair, ...rest }) => ({ ...rest, signal: pair[0], unit: pair[1] }));
const reading = fc.oneof(valid, malformed);
/** A small pool of valid readings, drawn again and again so duplicates occur. */
const repeated = fc.constantFrom(
  ...[0, 1, 2].map((i) => ({ assetId: 'P-101', signal: 'current', value: 10 + i, unit: 'A', ts: NOW - 60_000 + i })),
);
/** Payloads: one reading, an array, a batch, a repeated reading, or arbitrary junk. */
const payload = fc.oneof(
  { weight: 1, arbitrary: repeated },
  { weight: 4, arbitrary: reading },
  { weight: 2, arbitrary: valid },
  { weight: 2, arbitrary: fc.array(reading, { maxLength: 6 }) },
  { weight: 2, arbitrary: fc.record({ assetId, ts, readings: fc.array(reading, { maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.anything() },
);

/** Readings an input carries, counted the way the node promises to account for them. */
function itemsIn(input: unknown): number {
  if (Array.isArray(input)) return Math.max(1, input.length);
  if (input && typeof input === 'object' && Array.isArray((input as { readings?: unknown }).readings)) {
    return Math.max(1, (input as { readings: unknown[] }).readings.length);
  }
  return 1;
}

describe('pdm-normalise fuzz', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it(`accounts for every reading of ${RUNS} generated messages and never crashes`, { timeout: 240_000 }, async () => {
    const at = { z: 'tab', x: 10, y: 10 };
    await helper.load(normaliseNode, [
      { id: 'tab', type: 'tab', label: 'fuzz' },
      { id: 'n1', ...at, type: 'pdm-normalise', root: 'pdm', stuckCount: 5, dedupe: 5000, maxFuture: 600, wires: [['clean'], ['rejects']] },
      { id: 'clean', ...at, type: 'helper', wires: [] },
      { id: 'rejects', ...at, type: 'helper', wires: [] },
    ]);
    const n1 = helper.getNode('n1');
    let clean = 0;
    let rejected = 0;
    let completed = 0;
    let errors = 0;
    // The node checks fields by hand (fast); every clean reading must still satisfy the JSON Schema.
    const contractBreaks: string[] = [];
    helper.getNode('clean').on('input', (msg: { payload: unknown }) => {
      clean++;
      if (!validateReading(msg.payload)) contractBreaks.push(`${describeErrors(validateReading.errors)}: ${JSON.stringify(msg.payload)}`);
    });
    helper.getNode('rejects').on('input', (msg: { reject: { count: number; code: string; reason: string } }) => {
      rejected += msg.reject.count;
      assert.ok(msg.reject.code && msg.reject.reason);
    });
    n1.on('call:error', () => errors++);

    const samples = fc.sample(payload, { numRuns: RUNS, seed: 20261127 });
    let expected = 0;
    for (let i = 0; i < samples.length; i++) {
      expected += itemsIn(samples[i]);
      n1.receive({ payload: samples[i], _seq: i });
      completed++;
      if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const counts = n1.counts as { clean: number; rejected: number; duplicates: number };
    assert.equal(completed, RUNS);
    assert.deepEqual(contractBreaks.slice(0, 5), [], 'clean readings that break the reading schema');
    assert.equal(counts.clean, clean, 'clean messages seen downstream = clean counted');
    assert.equal(counts.rejected, rejected, 'rejects seen downstream = rejects counted');
    const duplicates = counts.duplicates;
    assert.equal(clean + rejected + duplicates, expected, 'in = clean + rejected + duplicates');
    assert.ok(duplicates > 0, 'the generator repeats (asset, signal, ts), so some duplicates must be dropped');
    assert.ok(clean > RUNS / 20, `too few clean readings (${clean}): generator or node broken`);
    assert.ok(rejected > RUNS / 20, `too few rejects (${rejected})`);
    assert.ok(errors > 0, 'rejects must reach done(err)');
    console.log(JSON.stringify({ messages: RUNS, readingsIn: expected, clean, rejected, duplicates, errors }));
  });
});
