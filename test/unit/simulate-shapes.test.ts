/**
 * The simulator's Modbus and OPC UA shapes decode through nodes/lib/retrofit exactly: the register
 * map compiles, registers decode to the encoded values to the last bit (from the register array
 * and from the response buffer), and source detection recognises both message shapes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  HOUR_MS,
  PlantSimulator,
  encodeRegisters,
  modbusLayout,
  modbusReadMessage,
  opcuaItemMessage,
  opcuaNodeId,
  opcuaTagMap,
  registerBytes,
} from '../../nodes/lib/simulate';
import { BYTE_ORDERS, REGISTER_TYPES, compileRegisterMap, decodeRegisters } from '../../nodes/lib/retrofit/registers';
import { compileTagMap } from '../../nodes/lib/retrofit/tags';
import { detectSource } from '../../nodes/lib/retrofit/detect';

const MONDAY = Date.UTC(2025, 5, 2);

function plant() {
  const sim = new PlantSimulator({ seed: 11, start: MONDAY });
  sim.advanceTo(MONDAY + 3 * HOUR_MS);
  return sim;
}

function layoutOf(sim: PlantSimulator, index: number) {
  const a = sim.assets[index];
  return modbusLayout(a.resolved.id, index + 1, a.resolved.sensors.map((s) => ({ signal: s.signal, unit: s.unit })));
}

describe('simulated Modbus registers', () => {
  it('every asset has a register map the retrofit decoder accepts, using every value type and byte order', () => {
    const sim = plant();
    const types = new Set<string>();
    const orders = new Set<string>();
    sim.assets.forEach((a, i) => {
      const layout = layoutOf(sim, i);
      const compiled = compileRegisterMap(JSON.parse(JSON.stringify(layout.entries)));
      assert.ok(compiled.ok, JSON.stringify(compiled));
      assert.equal(compiled.map.span, layout.quantity);
      assert.deepEqual(layout.entries.map((e) => e.signal), a.signals);
      for (const e of layout.entries) {
        types.add(e.type);
        orders.add(e.order ?? 'ABCD');
      }
    });
    assert.deepEqual([...types].sort(), REGISTER_TYPES.filter((t) => t !== 'bit').sort());
    assert.deepEqual([...orders].sort(), [...BYTE_ORDERS].sort());
  });

  it('registers decode exactly to the encoded values, from the array and from the response bytes', () => {
    const sim = plant();
    let checked = 0;
    sim.assets.forEach((a, i) => {
      const layout = layoutOf(sim, i);
      const latest = new Map([...sim.machine(a.resolved.id)!.latest()].map(([s, v]) => [s, v.value]));
      assert.equal(latest.size, a.signals.length);
      const { registers, expected } = encodeRegisters(layout, latest);
      assert.ok(registers.every((r) => Number.isInteger(r) && r >= 0 && r <= 0xffff));
      const map = compileRegisterMap(layout.entries);
      assert.ok(map.ok);
      for (const input of [registers, new Uint8Array(registerBytes(registers))]) {
        for (const d of decodeRegisters(map.map, input)) {
          assert.ok(d.ok, JSON.stringify(d));
          assert.equal(d.value, expected[d.signal], `${a.resolved.id} ${d.signal}`);
          const entry = layout.entries.find((e) => e.signal === d.signal)!;
          const value = latest.get(d.signal)!;
          // Within the register's resolution of the simulated reading.
          const tolerance = entry.type === 'float32' ? Math.abs(value) * 1e-7 + 1e-9 : entry.type === 'float64' ? 0 : (entry.scale ?? 1) / 2 + 1e-12;
          assert.ok(Math.abs(d.value - value) <= tolerance, `${d.signal}: ${d.value} vs ${value}`);
          assert.equal(d.unit, a.resolved.sensors.find((s) => s.signal === d.signal)!.unit);
          checked++;
        }
      }
    });
    assert.ok(checked > 80);
  });

  it('encodes negative values, and saturates values outside the register range', () => {
    const sim = plant();
    const layout = layoutOf(sim, 1); // pump: int32 suction pressure, int16 bearing temperature
    const { registers, expected } = encodeRegisters(layout, { suction_pressure: -0.412, bearing_temperature: -12.3, filter_differential_pressure: 9 });
    const map = compileRegisterMap(layout.entries);
    assert.ok(map.ok);
    const decoded = Object.fromEntries(decodeRegisters(map.map, registers).map((d) => [d.signal, d.ok ? d.value : NaN]));
    assert.equal(decoded.suction_pressure, expected.suction_pressure);
    assert.ok(Math.abs(decoded.suction_pressure + 0.412) < 1e-9);
    assert.ok(Math.abs(decoded.bearing_temperature + 12.3) < 1e-9);
    assert.equal(decoded.flow, 0, 'a signal without a value reads 0');
    const fan = layoutOf(sim, 3);
    const sat = encodeRegisters(fan, { filter_differential_pressure: 9 });
    assert.equal(sat.expected.filter_differential_pressure, 65535 * 0.0001, 'uint16 × 0.0001 saturates at 6.5535');
  });

  it('is a Modbus-Read message that source detection recognises, with registers and buffer', () => {
    const sim = plant();
    const layout = layoutOf(sim, 0);
    const latest = new Map([...sim.machine('M-101')!.latest()].map(([s, v]) => [s, v.value]));
    const { registers } = encodeRegisters(layout, latest);
    const msg = modbusReadMessage(layout, registers, 'm1');
    const detected = detectSource(JSON.parse(JSON.stringify(msg)));
    assert.equal(detected.kind, 'modbus-read');
    assert.deepEqual(detected.modbus, { unitId: 1, fc: 3, address: 0, quantity: layout.quantity });
    assert.deepEqual(detected.registers, registers);
    assert.deepEqual([...detected.buffer!], [...registerBytes(registers)]);
    assert.equal(detected.error, undefined);
  });
});

describe('simulated OPC UA items', () => {
  it('look like a node-red-contrib-opcua subscription: NodeId topic, value, Good status, simulated timestamps', () => {
    const sim = new PlantSimulator({ seed: 2, start: MONDAY });
    const { readings } = sim.advanceTo(MONDAY + 60_000);
    for (const r of readings.slice(0, 200)) {
      const msg = opcuaItemMessage(r);
      const detected = detectSource(msg);
      assert.equal(detected.kind, 'opcua');
      assert.equal(detected.items.length, 1);
      const item = detected.items[0];
      assert.equal(item.address, opcuaNodeId(r.assetId, r.signal));
      assert.equal(item.value, r.value);
      assert.equal(item.ts, r.ts);
      assert.equal(item.quality, 'good');
      assert.equal(item.datatype, 'Double');
    }
  });

  it('come with a tag map the retrofit tag-map compiler accepts, resolving every NodeId to its signal and unit', () => {
    const sim = plant();
    for (const a of sim.assets) {
      const signals = a.resolved.sensors.map((s) => ({ signal: s.signal, unit: s.unit }));
      const compiled = compileTagMap(opcuaTagMap(a.resolved.id, signals));
      assert.ok(compiled.ok, JSON.stringify(compiled));
      for (const { signal, unit } of signals) {
        const tag = compiled.map.lookup(`${opcuaNodeId(a.resolved.id, signal)};datatype=Double`);
        assert.deepEqual([tag?.signal, tag?.unit], [signal, unit]);
      }
    }
  });
});
