/**
 * The Modbus and OPC UA variants of the asset-class examples (scripts/build-class-examples.js):
 * every node type is ours, core or from the partner module the flow declares, and what the
 * partner node would deliver — registers encoded here independently of the decoder, or one
 * DataValue per subscribed tag — comes out of the real pdm-retrofit conversion as a good reading
 * for every signal of the class, in a unit pdm-normalise turns into the class's unit.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ASSET_CLASS_IDS, getAssetClass } from '../../nodes/lib/assets/classes';
import type { AssetClassId } from '../../nodes/lib/assets/types';
import type { RegisterEntry } from '../../nodes/lib/retrofit/registers';
import { toCanonical } from '../../nodes/lib/units';
import { Retrofitter, type ScalingRow } from '../../nodes/pdm-retrofit/retrofitter';
import type { Reading } from '../../nodes/lib/contracts/reading';
import { repoRoot } from '../helpers/node-red';

type FlowNode = Record<string, any> & { id: string; type: string };

const dir = path.join(repoRoot, 'examples', 'asset-classes');
const VARIANT = /^\d\d - .+ over (Modbus|OPC UA)\.json$/;
const examples = fs
  .readdirSync(dir)
  .filter((f) => VARIANT.test(f))
  .sort()
  .map((file) => ({ file, protocol: VARIANT.exec(file)![1], flow: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as FlowNode[] }));

// ---- which module registers which node type (from the .html files Node-RED loads) ---------------

const REGISTER_TYPE = /registerType\(\s*['"]([^'"]+)['"]/g;
function typesIn(html: string): string[] {
  return [...html.matchAll(REGISTER_TYPE)].map((m) => m[1]);
}
/** Types a Node-RED module registers: the .html beside each file its package.json "node-red".nodes lists. */
function moduleTypes(moduleDir: string): Set<string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(moduleDir, 'package.json'), 'utf8'));
  const out = new Set<string>();
  for (const js of Object.values(pkg['node-red'].nodes) as string[]) {
    const html = path.join(moduleDir, js.replace(/\.c?js$/, '.html'));
    if (fs.existsSync(html)) typesIn(fs.readFileSync(html, 'utf8')).forEach((t) => out.add(t));
  }
  return out;
}
function coreTypes(): Set<string> {
  const out = new Set<string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.html')) typesIn(fs.readFileSync(p, 'utf8')).forEach((t) => out.add(t));
    }
  };
  walk(path.join(path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [repoRoot] })), 'core'));
  return out;
}
const ours = moduleTypes(repoRoot);
const core = coreTypes();
const partnerTypes = (module: string): Set<string> => moduleTypes(path.dirname(require.resolve(`${module}/package.json`, { paths: [repoRoot] })));

function classOf(id: AssetClassId) {
  const cls = getAssetClass(id);
  assert.ok(cls, `unknown asset class ${id}`);
  return cls;
}

// ---- a synthetic source, built without the decoder ---------------------------------------------

/** pdm-normalise's conversion of `unit` onto the canonical unit, as a linear map. */
function linear(unit: string): { toCanonical: (x: number) => number; fromCanonical: (y: number) => number; canonical: string } {
  const zero = toCanonical(0, unit);
  const one = toCanonical(1, unit);
  assert.ok(zero && one, `pdm-normalise does not know the unit "${unit}"`);
  const a = one.value - zero.value;
  const b = zero.value;
  return { toCanonical: (x) => a * x + b, fromCanonical: (y) => (y - b) / a, canonical: one.unit };
}

const REPRESENTABLE: Record<string, [number, number]> = { uint16: [0, 65535], int16: [-32768, 32767], uint32: [0, 4294967295], int32: [-2147483648, 2147483647], float32: [-1e6, 1e6] };

/** A value 30 % into the class's plausible range that the register (and its 4–20 mA row) can carry, in canonical units. */
function pick(signalRange: readonly [number, number], unit: string, limits: [number, number]): number {
  const u = linear(unit);
  const lo = Math.max(signalRange[0], Math.min(u.toCanonical(limits[0]), u.toCanonical(limits[1])));
  const hi = Math.min(signalRange[1], Math.max(u.toCanonical(limits[0]), u.toCanonical(limits[1])));
  assert.ok(lo < hi, `nothing of the range ${signalRange.join('…')} fits in ${limits.join('…')} ${unit}`);
  return lo + 0.3 * (hi - lo);
}

/** The 16-bit words of a value as a device with byte order `order` sends them. */
function words(raw: number, type: string, order: string): number[] {
  const view = new DataView(new ArrayBuffer(4));
  if (type === 'float32') view.setFloat32(0, raw);
  else if (type === 'int32' || type === 'uint32') view.setUint32(0, raw >>> 0);
  else return [order === 'BADC' || order === 'DCBA' ? ((raw & 0xff) << 8) | ((raw & 0xffff) >>> 8) : raw & 0xffff];
  const [A, B, C, D] = [0, 1, 2, 3].map((i) => view.getUint8(i));
  const pairs = { ABCD: [A, B, C, D], CDAB: [C, D, A, B], BADC: [B, A, D, C], DCBA: [D, C, B, A] }[order]!;
  return [(pairs[0] << 8) | pairs[1], (pairs[2] << 8) | pairs[3]];
}

interface Expected {
  value: number;
  tolerance: number;
}

function modbusSource(read: FlowNode, registers: RegisterEntry[], scaling: ScalingRow[], classId: AssetClassId): { msg: Record<string, unknown>; expected: Map<string, Expected> } {
  const regs = new Array<number>(Number(read.quantity)).fill(0);
  const expected = new Map<string, Expected>();
  for (const e of registers) {
    const spec = classOf(classId).signals.find((s) => s.signal === e.signal)!;
    const scale = e.scale ?? 1;
    const bias = e.bias ?? 0;
    const [rawLo, rawHi] = REPRESENTABLE[e.type];
    const loop = scaling.find((s) => s.signal === e.signal && s.kind === 'loop');
    let raw: number;
    let canonical: number;
    if (loop) {
      // The transmitter's range in its unit; the register carries the loop current in mA.
      const eng = linear(loop.unit!).fromCanonical(pick(spec.range, loop.unit!, [loop.min!, loop.max!]));
      const mA = 4 + (16 * (eng - loop.min!)) / (loop.max! - loop.min!);
      raw = Math.round((linear(e.unit!).fromCanonical(linear('mA').toCanonical(mA)) - bias) / scale);
      const back = linear('mA').fromCanonical(linear(e.unit!).toCanonical(raw * scale + bias));
      canonical = linear(loop.unit!).toCanonical(loop.min! + ((back - 4) * (loop.max! - loop.min!)) / 16);
    } else {
      const v = linear(e.unit!).fromCanonical(pick(spec.range, e.unit!, [rawLo * scale + bias, rawHi * scale + bias]));
      raw = e.type === 'float32' ? Math.fround((v - bias) / scale) : Math.round((v - bias) / scale);
      canonical = linear(e.unit!).toCanonical(raw * scale + bias);
    }
    words(raw, e.type, e.order ?? 'ABCD').forEach((w, i) => (regs[e.offset + i] = w));
    expected.set(e.signal, { value: canonical, tolerance: 1e-5 * Math.max(1, Math.abs(canonical)) });
  }
  const buffer = Buffer.alloc(regs.length * 2);
  regs.forEach((r, i) => buffer.writeUInt16BE(r, 2 * i));
  // Modbus-Read output 1 of node-red-contrib-modbus.
  const msg = {
    topic: 'polling',
    payload: regs,
    responseBuffer: { data: regs, buffer },
    input: { topic: 'polling', from: read.name, payload: { unitid: Number(read.unitid), fc: read.dataType === 'HoldingRegister' ? 3 : 4, address: Number(read.adr), quantity: Number(read.quantity) } },
  };
  return { msg, expected };
}

function opcuaSource(tags: Array<{ address: string; signal: string; unit: string; scale?: number; bias?: number }>, classId: AssetClassId): { msgs: Record<string, unknown>[]; expected: Map<string, Expected> } {
  const expected = new Map<string, Expected>();
  const msgs = tags.map((t) => {
    const spec = classOf(classId).signals.find((s) => s.signal === t.signal)!;
    const canonical = pick(spec.range, t.unit, [-1e6, 1e6]);
    const value = (linear(t.unit).fromCanonical(canonical) - (t.bias ?? 0)) / (t.scale ?? 1);
    expected.set(t.signal, { value: canonical, tolerance: 1e-9 * Math.max(1, Math.abs(canonical)) });
    // A subscribe `multiple` message of node-red-contrib-opcua: the NodeId in topic, a whole DataValue in payload.
    return { topic: t.address, payload: { value: { dataType: 'Double', arrayType: 'Scalar', value }, statusCode: { value: 0 }, sourceTimestamp: '2026-01-01T08:00:00.000Z' } };
  });
  return { msgs, expected };
}

// ---------------------------------------------------------------------------------------------

function only(flow: FlowNode[], type: string): FlowNode {
  const found = flow.filter((n) => n.type === type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0];
}

/** The ids reachable from `from` along wires. */
function downstream(flow: FlowNode[], from: FlowNode): Set<string> {
  const byId = new Map(flow.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const queue = [from.id];
  while (queue.length) {
    const n = byId.get(queue.shift()!);
    for (const next of (n?.wires ?? []).flat() as string[]) if (!seen.has(next)) seen.add(next), queue.push(next);
  }
  return seen;
}

describe('asset-class examples over Modbus and OPC UA', () => {
  it('has both variants for each of the six classes', () => {
    const got = examples.map((e) => `${only(e.flow, 'pdm-asset').assetClass}/${e.protocol}`).sort();
    const want = ASSET_CLASS_IDS.flatMap((c) => [`${c}/Modbus`, `${c}/OPC UA`]).sort();
    assert.deepEqual(got, want);
  });

  for (const { file, protocol, flow } of examples) {
    describe(file, () => {
      const partner = protocol === 'Modbus' ? 'node-red-contrib-modbus' : 'node-red-contrib-opcua';
      const asset = only(flow, 'pdm-asset');
      const classId = asset.assetClass as AssetClassId;
      const signals = classOf(classId).signals;
      const retrofit = only(flow, 'pdm-retrofit');

      it(`declares ${partner} in a global-config node, and uses only our, core and its types`, () => {
        const modules = only(flow, 'global-config').modules as Record<string, string>;
        assert.deepEqual(Object.keys(modules), [partner]);
        assert.match(modules[partner], /^\d+\.\d+\.\d+$/);
        const theirs = partnerTypes(partner);
        const foreign = flow.filter((n) => !ours.has(n.type) && !core.has(n.type) && !theirs.has(n.type)).map((n) => n.type);
        assert.deepEqual(foreign, []);
        assert.ok(flow.some((n) => theirs.has(n.type) && Array.isArray(n.wires)), `no ${partner} node on the canvas`);
      });

      it('has unique ids, positions for every flow node, and the wires partner → retrofit → normalise → twin → debug', () => {
        assert.equal(new Set(flow.map((n) => n.id)).size, flow.length);
        for (const n of flow) if (n.wires) assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y), `${n.type} ${n.id} has no position`);
        const ids = new Set(flow.map((n) => n.id));
        for (const n of flow) for (const w of (n.wires ?? []).flat()) assert.ok(ids.has(w), `${n.id} is wired to missing ${w}`);
        const source = flow.find((n) => n.type === 'modbus-read' || n.type === 'inject')!;
        const reached = downstream(flow, source);
        for (const type of ['pdm-retrofit', 'pdm-normalise', 'pdm-twin', 'debug']) {
          assert.ok(flow.some((n) => n.type === type && reached.has(n.id)), `${type} is not downstream of ${source.type}`);
        }
        const twin = only(flow, 'pdm-twin');
        assert.equal(twin.defaultClass, classId);
        assert.equal(retrofit.assetId, asset.assetId);
        assert.deepEqual(String(asset.sensors).split(/,\s*/).sort(), signals.map((s) => s.signal).sort(), 'the asset lists every signal of its class');
      });

      it('turns what the partner node delivers into a good reading for every signal of the class, in its unit', () => {
        const retrofitter = new Retrofitter({ assetId: retrofit.assetId, unmapped: retrofit.unmapped, registers: retrofit.registers, tags: retrofit.tags, scaling: retrofit.scaling, zonePreset: retrofit.zonePreset });
        assert.deepEqual(retrofitter.errors, []);
        let readings: Reading[] = [];
        let expected: Map<string, Expected>;
        if (protocol === 'Modbus') {
          const src = modbusSource(only(flow, 'modbus-read'), retrofit.registers, retrofit.scaling, classId);
          expected = src.expected;
          const out = retrofitter.convert(src.msg);
          assert.deepEqual(out.rejects, []);
          readings = out.readings;
        } else {
          const subscribe = only(flow, 'inject');
          assert.equal(subscribe.topic, 'multiple');
          assert.deepEqual(JSON.parse(subscribe.payload).map((i: { nodeId: string }) => i.nodeId), retrofit.tags.map((t: { address: string }) => t.address), 'the inject subscribes to every mapped tag');
          const src = opcuaSource(retrofit.tags, classId);
          expected = src.expected;
          for (const msg of src.msgs) {
            const out = retrofitter.convert(msg);
            assert.deepEqual(out.rejects, [], JSON.stringify(msg));
            readings.push(...out.readings);
          }
        }
        assert.deepEqual(readings.map((r) => r.signal).sort(), signals.map((s) => s.signal).sort());
        for (const spec of signals) {
          const r = readings.find((x) => x.signal === spec.signal)!;
          assert.equal(r.assetId, asset.assetId);
          assert.equal(r.quality, 'good', `${spec.signal}: ${r.qualityReason}`);
          const c = toCanonical(r.value, r.unit);
          assert.ok(c, `${spec.signal}: unit "${r.unit}" is not one pdm-normalise knows`);
          assert.equal(c.unit, spec.unit, `${spec.signal} arrives in ${r.unit}, which normalise turns into ${c.unit}, not ${spec.unit}`);
          const want = expected.get(spec.signal)!;
          assert.ok(Math.abs(c.value - want.value) <= want.tolerance, `${spec.signal}: ${c.value} ${c.unit}, expected ${want.value}`);
        }
      });
    });
  }
});
