import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssetRegistry, CSV_COLUMNS, canonicalAssetConfig, parseCsv, toCsv } from '../../nodes/lib/assets/registry';
import { ASSET_CLASS_IDS, ASSET_CLASSES } from '../../nodes/lib/assets/classes';
import { AssetConfigError } from '../../nodes/lib/assets/schema';
import type { AssetConfig } from '../../nodes/lib/assets/types';

/** Deterministic pseudo-random numbers, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const AWKWARD_NAMES = [
  'Feed pump, north',
  'The "big" fan',
  'Line 1\nconveyor',
  'Kühlwasserpumpe №2',
  'Crusher drive\r\nspare',
  ' padded ',
  '"',
  'a,b,"c",\r\n',
  '=SUM(A1)',
];

/** A fleet that uses every field, awkward text and float values; canonical already. */
function fleet(count: number, seed = 1): AssetConfig[] {
  const random = rng(seed);
  const pickOne = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const out: AssetConfig[] = [];
  for (let i = 0; i < count; i++) {
    const assetClass = ASSET_CLASS_IDS[i % ASSET_CLASS_IDS.length];
    const cls = ASSET_CLASSES[assetClass];
    const config: AssetConfig = { id: `${assetClass.slice(0, 3).toUpperCase()}-${String(i).padStart(4, '0')}`, assetClass };
    if (random() < 0.8) config.name = random() < 0.4 ? pickOne(AWKWARD_NAMES) : `${cls.name} ${i}`;
    if (random() < 0.8) config.path = random() < 0.5 ? { site: 'Leeds', area: 'Hall, 3', line: `L${i % 7}` } : { site: 'Brno' };
    if (random() < 0.8) {
      config.nameplate = { ratedCurrentA: Math.round(random() * 2000) / 10 + 0.1 + 0.2, ratedPowerKW: 15 };
      if (random() < 0.5) config.nameplate.ratedSpeedRpm = 1480;
      if (random() < 0.5) config.nameplate.ratedVoltageV = 400;
    }
    if (random() < 0.6) config.sensors = cls.signals.filter(() => random() < 0.6).map((s) => s.signal).concat(random() < 0.2 && assetClass !== 'motor' ? ['ambient_temperature'] : []);
    if (config.sensors?.length === 0) delete config.sensors;
    if (random() < 0.5) config.stateThresholds = { overloadAbove: 1.25, startupMs: Math.floor(random() * 30000) };
    if (random() < 0.5) {
      const fitted = config.sensors ?? cls.signals.map((s) => s.signal);
      config.limits = { [fitted[0]]: { range: [0, 1e-7 + random()], warning: random() / 3, action: 1 / 3 } };
    }
    if (random() < 0.4) {
      config.presets = random() < 0.5
        ? { vibration: { standard: 'ISO 10816-1', machineClass: 'III' }, currentUnbalanceLimitPct: 7.5 }
        : { vibration: { standard: 'ISO 10816-3', group: 1, foundation: 'flexible' }, insulationClass: 'H' };
    }
    out.push(canonicalAssetConfig(config));
  }
  return out;
}

test('upsert, get, resolved, list and remove', () => {
  const registry = new AssetRegistry();
  const resolved = registry.upsert({ id: 'M-1', assetClass: 'motor', nameplate: { ratedCurrentA: 10 } });
  assert.equal(resolved.stateThresholds.overloadAbove, 1.15);
  registry.upsert({ id: 'P-1', assetClass: 'pump' });
  assert.equal(registry.size, 2);
  assert.deepEqual(registry.get('M-1'), { id: 'M-1', assetClass: 'motor', nameplate: { ratedCurrentA: 10 } });
  assert.equal(registry.resolved('M-1')?.limits.current.range?.[1], 100);
  registry.upsert({ id: 'M-1', assetClass: 'motor', name: 'Main drive' });
  assert.deepEqual(registry.list().map((c) => c.id), ['M-1', 'P-1'], 'an update keeps the position');
  assert.equal(registry.resolved('M-1')?.name, 'Main drive');
  assert.ok(Object.isFrozen(registry.get('M-1')) && Object.isFrozen(registry.resolved('M-1')?.limits));
  assert.throws(() => registry.upsert({ id: 'X', assetClass: 'turbine' } as unknown as AssetConfig), (err: unknown) => err instanceof AssetConfigError && err.code === 'invalid_config' && err.assetId === 'X');
  assert.throws(() => registry.upsert({ id: 'X', assetClass: 'pump', sensors: ['tank_level'] }), /tank_level/);
  assert.equal(registry.has('X'), false);
  assert.equal(registry.remove('P-1'), true);
  assert.equal(registry.remove('P-1'), false);
  assert.equal(registry.get('P-1'), undefined);
  assert.deepEqual(new AssetRegistry([{ id: 'A', assetClass: 'fan' }]).list(), [{ id: 'A', assetClass: 'fan' }]);
});

test('stored configurations are canonical: "not set" has one spelling', () => {
  const registry = new AssetRegistry();
  registry.upsert({ assetClass: 'fan', sensors: [], id: 'F-1', path: {}, nameplate: {}, limits: { current: {} }, presets: {}, stateThresholds: {}, name: undefined });
  assert.deepEqual(registry.get('F-1'), { id: 'F-1', assetClass: 'fan' });
  assert.equal(JSON.stringify(registry.get('F-1')), '{"id":"F-1","assetClass":"fan"}');
});

test('JSON export and import round-trip a fleet of 50 exactly', () => {
  const assets = fleet(50);
  const registry = new AssetRegistry(assets);
  assert.deepEqual(registry.list(), assets);
  const text = registry.exportJson();
  const copy = new AssetRegistry();
  const result = copy.importJson(text);
  assert.deepEqual(result.issues, []);
  assert.equal(result.ok, true);
  assert.deepEqual(result.imported, assets.map((a) => a.id));
  assert.deepEqual(copy.list(), assets);
  assert.equal(copy.exportJson(), text);
});

test('CSV export and import round-trip a fleet of 50 exactly, awkward text included', () => {
  const assets = fleet(50, 7);
  assert.ok(assets.some((a) => a.name?.includes('\n')) && assets.some((a) => a.name?.includes('"')) && assets.some((a) => a.name?.includes(',')), 'the fleet exercises quoting');
  const registry = new AssetRegistry(assets);
  const csv = registry.exportCsv();
  assert.equal(csv.split('\r\n')[0], CSV_COLUMNS.join(','));
  const copy = new AssetRegistry();
  const result = copy.importCsv(csv);
  assert.deepEqual(result.issues, []);
  assert.deepEqual(copy.list(), assets);
  assert.equal(copy.exportCsv(), csv);
  // Excel adds a byte-order mark; some tools write LF only (names keep their own line breaks).
  const viaExcel = new AssetRegistry();
  assert.equal(viaExcel.importCsv(`\uFEFF${csv}`).ok, true);
  assert.deepEqual(viaExcel.list(), assets);
});

test('CSV cells: quoted commas, quotes and line breaks; semicolon sensors; JSON cells', () => {
  const csv =
    'id,name,site,assetClass,sensors,limits,ratedCurrentA\n' +
    'P-1,"Feed pump, north ""A""",Leeds,pump,current; flow ;vibration_velocity,"{""flow"":{""range"":[0,120]}}",28.5\n' +
    'P-2,"two\nlines",,Pump,,,\n' +
    '\n' +
    'P-3 , spaced , Leeds ,pump,,,  7 \n';
  const registry = new AssetRegistry();
  const result = registry.importCsv(csv);
  assert.deepEqual(result.issues, []);
  assert.deepEqual(registry.get('P-1'), {
    id: 'P-1',
    name: 'Feed pump, north "A"',
    path: { site: 'Leeds' },
    assetClass: 'pump',
    nameplate: { ratedCurrentA: 28.5 },
    sensors: ['current', 'flow', 'vibration_velocity'],
    limits: { flow: { range: [0, 120] } },
  });
  assert.deepEqual(registry.get('P-2'), { id: 'P-2', name: 'two\nlines', assetClass: 'pump' });
  assert.deepEqual(registry.get('P-3'), { id: 'P-3', name: 'spaced', path: { site: 'Leeds' }, assetClass: 'pump', nameplate: { ratedCurrentA: 7 } });
});

test('the RFC 4180 reader', () => {
  const parsed = parseCsv('a,"b,1","c""d"\r\n"e\r\nf",,\rg\n"",x"y\n');
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(parsed.records.map((r) => r.cells.map((c) => c.value)), [['a', 'b,1', 'c"d'], ['e\r\nf', '', ''], ['g'], ['', 'x"y']]);
  assert.deepEqual(parsed.records.map((r) => [r.row, r.line]), [[1, 1], [2, 2], [3, 4], [4, 5]]);
  assert.deepEqual(parseCsv('a,b').records[0].cells.map((c) => c.value), ['a', 'b']);
  assert.deepEqual(parseCsv('a,').records[0].cells.map((c) => c.value), ['a', '']);
  assert.deepEqual(parseCsv('').records, []);
  const bad = parseCsv('h\n"a"b\nok\n"never closed\nmore');
  assert.deepEqual(bad.records.map((r) => r.cells[0].value), ['h', 'ok']);
  assert.deepEqual(bad.errors.map((e) => [e.row, e.line]), [[2, 2], [4, 4]]);
  assert.match(bad.errors[0].message, /after a closing quote/);
  assert.match(bad.errors[1].message, /opened on line 4 is never closed/);
  const rows = [['plain', 'with,comma', 'with "quote"', 'line\nbreak', ' outer ', '']];
  assert.equal(toCsv(rows), 'plain,"with,comma","with ""quote""","line\nbreak"," outer ",\r\n');
  assert.deepEqual(parseCsv(toCsv(rows)).records[0].cells.map((c) => c.value), rows[0]);
});

test('1,000 assets with 3 bad rows: exactly those rows are reported and nothing is imported', () => {
  const assets = fleet(1000, 3);
  const registry = new AssetRegistry([{ id: 'KEEP', assetClass: 'motor' }]);
  const records = parseCsv(new AssetRegistry(assets).exportCsv()).records.map((r) => r.cells.map((c) => c.value));
  const classColumn = CSV_COLUMNS.indexOf('assetClass');
  const [bad1, bad2, bad3] = [10, 499, 998];
  const targets = [assets[bad1].id, assets[bad2].id, assets[bad3].id];
  records[bad1 + 1][0] = `${targets[0]}/x`; // a topic separator in the id
  records[bad2 + 1][classColumn] = 'turbine'; // no such class
  records[bad3 + 1] = [targets[2], 'broken']; // a row cut short
  const text = toCsv(records);
  // Spreadsheet rows: the header is row 1, so asset i is on row i + 2 even where names hold line breaks.
  const expectedRows = [bad1 + 2, bad2 + 2, bad3 + 2];
  assert.ok(assets.some((a, i) => i < bad3 && a.name?.includes('\n')), 'line breaks before the bad rows test row counting');
  const result = registry.importCsv(text);
  assert.equal(result.ok, false);
  assert.deepEqual(result.issues.map((i) => i.row), expectedRows);
  assert.match(result.issues[0].message, new RegExp(`^row ${expectedRows[0]} \\(${targets[0]}/x\\): id must be`));
  assert.match(result.issues[1].message, new RegExp(`^row ${expectedRows[1]} \\(${targets[1]}\\): assetClass must be one of`));
  assert.match(result.issues[2].message, new RegExp(`^row ${expectedRows[2]}: has 2 fields, the header has 14`));
  assert.deepEqual(result.imported, []);
  assert.deepEqual(registry.list().map((c) => c.id), ['KEEP'], 'nothing half-imported');

  const partial = registry.importCsv(text, { partial: true });
  assert.equal(partial.ok, false);
  assert.equal(partial.issues.length, 3);
  assert.equal(partial.imported.length, 997);
  assert.equal(registry.size, 998);
  assert.equal(registry.has(targets[1]), false);

  const replaced = registry.importCsv(text, { partial: true, replace: true });
  assert.equal(replaced.imported.length, 997);
  assert.equal(registry.has('KEEP'), false);
});

test('JSON import reports bad items by position and is all-or-nothing', () => {
  const assets = fleet(1000, 5);
  const items: unknown[] = [...assets];
  items[0] = { ...assets[0], nameplate: { ratedCurrentA: -3 } };
  items[500] = { ...assets[500], sensors: ['tank_level'] };
  items[999] = { ...assets[999], id: assets[998].id };
  const registry = new AssetRegistry();
  const result = registry.importJson(JSON.stringify(items));
  assert.deepEqual(result.issues.map((i) => i.row), [1, 501, 1000]);
  assert.match(result.issues[0].message, /^item 1 \(.+\): nameplate\.ratedCurrentA must be > 0$/);
  assert.match(result.issues[1].message, /^item 501 \(.+\): sensor "tank_level" is not a signal of a /);
  assert.match(result.issues[2].message, /^item 1000 \(.+\): id ".+" is already used on item 999$/);
  assert.equal(registry.size, 0);
  assert.equal(registry.importJson(items, { partial: true }).imported.length, 997);
  assert.match(registry.importJson('{"id":1}').issues[0].message, /expected a JSON array/);
  assert.match(registry.importJson('[').issues[0].message, /not valid JSON/);
});

test('CSV files people actually make', () => {
  const registry = new AssetRegistry();
  const semicolons = registry.importCsv('id;name;assetClass\nP-1;Pump;pump\n');
  assert.match(semicolons.issues[0].message, /^row 1 \(header\): .*save the file as comma-separated/);
  assert.match(registry.importCsv('id,colour,assetClass\n').issues[0].message, /unknown column "colour"/);
  assert.match(registry.importCsv('id,name\nP-1,x\n').issues[0].message, /no "assetClass" column/);
  assert.match(registry.importCsv('id,id,assetClass\n').issues[0].message, /"id" appears twice/);
  assert.match(registry.importCsv('').issues[0].message, /empty/);
  const comma = registry.importCsv('assetclass,ID,ratedCurrentA\nmotor,M-1,"12,5"\n');
  assert.match(comma.issues[0].message, /^row 2 \(M-1\): ratedCurrentA "12,5" is not a number: use a dot/);
  const json = registry.importCsv('id,assetClass,limits\nM-1,motor,{current:1}\n');
  assert.match(json.issues[0].message, /^row 2 \(M-1\): limits is not valid JSON/);
  const quote = registry.importCsv('id,assetClass,name\nM-1,motor,"Motor "A""\nM-2,motor,ok\n');
  assert.deepEqual(quote.issues.map((i) => i.row), [2]);
  const unclosed = registry.importCsv('id,assetClass,name\nM-1,motor,ok\nM-2,motor,"never\nM-3,motor,x\n');
  assert.deepEqual(unclosed.issues.map((i) => [i.row, i.problem]), [[3, 'a quoted field opened on line 3 is never closed']]);
  assert.equal(registry.size, 0);
  const missingId = registry.importCsv('id,assetClass\n,motor\n');
  assert.match(missingId.issues[0].message, /^row 2: the asset is missing "id"/);
  const merged = registry.importCsv('id,assetClass,stateThresholds\nP-1,pump,"{""idleBelow"":0.02}"\n');
  assert.match(merged.issues[0].message, /^row 2 \(P-1\): state thresholds must satisfy offBelow < idleBelow < overloadAbove/);
});
