import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectSeparator, parseCsv, readTable } from '../../nodes/lib/replay/table';
import { mapColumns, parseMap, words, findTimeColumn } from '../../nodes/lib/replay/columns';
import { parseNumber, parseTime } from '../../nodes/lib/replay/pipeline';
import { addConfusion, binaryScores, changepointsOf, nabFile, nabTotal } from '../../nodes/lib/replay/metrics';

test('CSV: separators, quotes, CRLF, blank lines, BOM', () => {
  assert.equal(detectSeparator('a;b;c\n1;2;3'), ';');
  assert.equal(detectSeparator('a\tb\n'), '\t');
  assert.equal(detectSeparator('"x;y",b,c\n'), ',');
  assert.deepEqual(parseCsv('\ufeffa,b\r\n"1,5","say ""hi"""\r\n\r\n3,\n', ','), [['a', 'b'], ['1,5', 'say "hi"'], ['3', '']]);
  assert.throws(() => parseCsv('a,"b\n', ','), /never closed/);
  const t = readTable('{"ts":1,"v":2}\n{"ts":2,"w":"x","n":{"deep":1}}\n', 'data.jsonl');
  assert.deepEqual(t.columns, ['ts', 'v', 'w', 'n']);
  assert.deepEqual(t.rows, [['1', '2', '', ''], ['2', '', 'x', '']]);
});

test('times: ISO with and without a zone (UTC), epoch s and ms, day-first and month-first', () => {
  assert.equal(parseTime('2020-03-09 10:14:33'), Date.UTC(2020, 2, 9, 10, 14, 33));
  assert.equal(parseTime('2020-03-09T10:14:33.250'), Date.UTC(2020, 2, 9, 10, 14, 33, 250));
  assert.equal(parseTime('2020-03-09T10:14:33+02:00'), Date.UTC(2020, 2, 9, 8, 14, 33));
  assert.equal(parseTime('1583748873'), 1583748873000);
  assert.equal(parseTime('1583748873123'), 1583748873123);
  assert.equal(parseTime('09.03.2020 10:14:33'), Date.UTC(2020, 2, 9, 10, 14, 33));
  assert.equal(parseTime('03/09/2020 10:14'), Date.UTC(2020, 2, 9, 10, 14));
  assert.equal(parseTime('03/09/2020', 'dmy'), Date.UTC(2020, 8, 3));
  assert.equal(parseTime('yesterday'), undefined);
  assert.equal(parseTime('2020-13-01'), undefined);
  assert.equal(parseNumber(' 1.5e3 ', ','), 1500);
  assert.equal(parseNumber('1,5', ';'), 1.5);
  assert.equal(parseNumber('1,5', ','), undefined);
  assert.equal(parseNumber('NaN', ';'), undefined);
});

test('column → signal mapping from names (SKAB columns, units in brackets, custom names, --map)', () => {
  assert.equal(words('Accelerometer1RMS'), 'accelerometer 1 rms');
  assert.equal(words('Volume Flow RateRMS'), 'volume flow rate rms');
  const skab = ['datetime', 'Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS'];
  const m = mapColumns(skab, new Set([findTimeColumn(skab)]));
  assert.deepEqual(
    m.map((c) => `${c.signal}:${c.unit}`),
    ['vibration_acceleration:g', 'vibration_acceleration_2:g', 'current:A', 'pressure:bar', 'temperature:°C', 'temperature_2:°C', 'voltage:V', 'flow:l/min'],
  );
  const other = mapColumns(['ts', 'Pressure (psi)', 'Bearing Temp [°F]', 'motor_amps', '2nd valve %', 'Drive Speed'], new Set([0]));
  assert.deepEqual(other.map((c) => `${c.signal}:${c.unit}:${c.how}`), ['pressure:psi:name', 'bearing_temperature:°F:name', 'current:A:name', 'c_2nd_valve:1:custom', 'speed:rpm:name']);
  const over = mapColumns(['t', 'X1'], new Set([0]), parseMap('X1=discharge_pressure:psi'));
  assert.deepEqual(over.map((c) => `${c.signal}:${c.unit}:${c.how}`), ['discharge_pressure:psi:option']);
  assert.throws(() => parseMap('X1=discharge_pressure:furlongs'), /not a known unit/);
  assert.throws(() => findTimeColumn(['a'], 'b'), /not a column/);
});

test('metrics: F1/FAR/MAR; changepoints from transitions; NAB scaling (null 0, perfect 100, false alarms cost)', () => {
  const c = binaryScores(addConfusion({ tp: 0, tn: 0, fp: 0, fn: 0 }, [1, 1, 0, 0], [1, 0, 1, 0]));
  assert.deepEqual([c.tp, c.fp, c.fn, c.tn], [1, 1, 1, 1]);
  assert.equal(c.f1, 0.5);
  assert.equal(c.far, 50);
  assert.deepEqual(Array.from(changepointsOf([1, 1, 0, 0, 1])), [1, 0, 1, 0, 1]);
  const times = Array.from({ length: 300 }, (_, i) => i * 1000);
  const truth = times.map((_, i) => (i === 100 || i === 200 ? 1 : 0));
  const none = nabTotal([nabFile(times, truth, times.map(() => 0))]);
  assert.equal(none.standard, 0);
  const perfect = nabTotal([nabFile(times, truth, truth)]);
  assert.ok(Math.abs(perfect.standard - 100) < 1e-9, String(perfect.standard));
  const late = nabTotal([nabFile(times, truth, times.map((_, i) => (i === 130 || i === 230 ? 1 : 0)))]);
  assert.ok(late.standard > 50 && late.standard < 100);
  const noisy = nabTotal([nabFile(times, truth, times.map((_, i) => (i === 100 || i === 200 || i === 10 || i === 20 ? 1 : 0)))]);
  assert.equal(noisy.falseAlarms, 2);
  assert.ok(noisy.standard < perfect.standard && noisy.lowFP < noisy.standard);
});
