import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileRegisterMap,
  decodeRegisters,
  parseRegisterMapCsv,
  parseRegisterMapJson,
  type ByteOrder,
  type Decoded,
  type RegisterEntry,
  type RegisterMap,
} from '../../nodes/lib/retrofit/registers';

function compile(entries: RegisterEntry[]): RegisterMap {
  const result = compileRegisterMap(entries);
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.map;
}

function one(entry: Omit<RegisterEntry, 'signal' | 'offset'> & { offset?: number }, registers: number[]): Decoded {
  return decodeRegisters(compile([{ signal: 's', offset: 0, ...entry }]), registers)[0];
}

function value(entry: Omit<RegisterEntry, 'signal' | 'offset'> & { offset?: number }, registers: number[]): number {
  const d = one(entry, registers);
  assert.ok(d.ok, `decode failed: ${JSON.stringify(d)}`);
  return d.value;
}

/** Bytes of the registers as a Modbus response carries them (big-endian per register). */
function bytesOf(registers: number[]): Buffer {
  const b = Buffer.alloc(registers.length * 2);
  registers.forEach((r, i) => b.writeUInt16BE(r, 2 * i));
  return b;
}

// Hand-computed wire images. 1234.5678 as float32 is 0x449A522B, as float64 0x40934A456D5CFAAD;
// -123456789 is 0xF8A432EB; 4000000000 is 0xEE6B2800.
const WIRE: Record<string, Record<ByteOrder, number[]>> = {
  float32: {
    ABCD: [0x449a, 0x522b],
    CDAB: [0x522b, 0x449a],
    BADC: [0x9a44, 0x2b52],
    DCBA: [0x2b52, 0x9a44],
  },
  float64: {
    ABCD: [0x4093, 0x4a45, 0x6d5c, 0xfaad],
    CDAB: [0xfaad, 0x6d5c, 0x4a45, 0x4093],
    BADC: [0x9340, 0x454a, 0x5c6d, 0xadfa],
    DCBA: [0xadfa, 0x5c6d, 0x454a, 0x9340],
  },
  int32: {
    ABCD: [0xf8a4, 0x32eb],
    CDAB: [0x32eb, 0xf8a4],
    BADC: [0xa4f8, 0xeb32],
    DCBA: [0xeb32, 0xa4f8],
  },
  uint32: {
    ABCD: [0xee6b, 0x2800],
    CDAB: [0x2800, 0xee6b],
    BADC: [0x6bee, 0x0028],
    DCBA: [0x0028, 0x6bee],
  },
};
const EXPECTED: Record<string, number> = {
  float32: 1234.5677490234375,
  float64: 1234.5678,
  int32: -123456789,
  uint32: 4000000000,
};
const ORDERS: ByteOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];

describe('register decoding', () => {
  for (const type of ['float32', 'float64', 'int32', 'uint32'] as const) {
    for (const order of ORDERS) {
      it(`${type} ${order} from registers and from the response buffer`, () => {
        const regs = WIRE[type][order];
        assert.equal(value({ type, order }, regs), EXPECTED[type]);
        const map = compile([{ signal: 's', offset: 0, type, order }]);
        const fromBuffer = decodeRegisters(map, bytesOf(regs))[0];
        assert.ok(fromBuffer.ok);
        assert.equal(fromBuffer.value, EXPECTED[type]);
      });
    }
  }

  it('defaults to ABCD (big-endian, as Modbus sends it)', () => {
    assert.equal(value({ type: 'float32' }, WIRE.float32.ABCD), EXPECTED.float32);
  });

  it('int16 and uint16, with the byte half of the order', () => {
    assert.equal(value({ type: 'int16' }, [0xfffe]), -2);
    assert.equal(value({ type: 'int16' }, [0x8000]), -32768);
    assert.equal(value({ type: 'int16' }, [0x7fff]), 32767);
    assert.equal(value({ type: 'uint16' }, [0xabcd]), 0xabcd);
    assert.equal(value({ type: 'uint16', order: 'CDAB' }, [0xabcd]), 0xabcd);
    assert.equal(value({ type: 'uint16', order: 'BADC' }, [0xabcd]), 0xcdab);
    assert.equal(value({ type: 'uint16', order: 'DCBA' }, [0xabcd]), 0xcdab);
    assert.equal(value({ type: 'int16', order: 'BADC' }, [0xfeff]), -2);
  });

  it('accepts registers given as signed int16', () => {
    assert.equal(value({ type: 'uint16' }, [-1]), 65535);
    assert.equal(value({ type: 'int32' }, [-1, -2]), -2);
  });

  it('bit in register: bit 0 is the least significant bit', () => {
    const regs = [0x0024];
    assert.equal(value({ type: 'bit', bit: 2 }, regs), 1);
    assert.equal(value({ type: 'bit', bit: 5 }, regs), 1);
    assert.equal(value({ type: 'bit', bit: 3 }, regs), 0);
    assert.equal(value({ type: 'bit', bit: 0 }, regs), 0);
    assert.equal(value({ type: 'bit', bit: 15 }, [0x8000]), 1);
    // BADC swaps the bytes first: 0x0024 reads as 0x2400, so bit 10 and bit 13 are set.
    assert.equal(value({ type: 'bit', bit: 10, order: 'BADC' }, regs), 1);
    assert.equal(value({ type: 'bit', bit: 2, order: 'BADC' }, regs), 0);
  });

  it('coils given as booleans decode as 0/1 registers', () => {
    const map = compile([
      { signal: 'run', offset: 1, type: 'bit', bit: 0 },
      { signal: 'trip', offset: 2, type: 'uint16' },
    ]);
    const [run, trip] = decodeRegisters(map, [false, true, false]);
    assert.deepEqual([run.ok && run.value, trip.ok && trip.value], [1, 0]);
  });

  it('applies scale then bias, keeping the raw value', () => {
    const d = one({ type: 'int16', scale: 0.1, bias: -40 }, [0x0271]); // 625
    assert.ok(d.ok);
    assert.equal(d.raw, 625);
    assert.equal(d.value, 625 * 0.1 - 40);
    const u = one({ type: 'uint16', scale: 0.01, unit: 'bar' }, [1234]);
    assert.ok(u.ok);
    assert.equal(u.unit, 'bar');
    assert.equal(u.value, 12.34);
  });

  it('decodes a map at several offsets in one response', () => {
    const map = compile([
      { signal: 'temp', offset: 0, type: 'int16', scale: 0.1, unit: '°C' },
      { signal: 'flow', offset: 1, type: 'float32', order: 'CDAB', unit: 'm³/h' },
      { signal: 'hours', offset: 3, type: 'uint32', unit: 'h' },
    ]);
    assert.equal(map.span, 5);
    const out = decodeRegisters(map, [215, 0x522b, 0x449a, 0x0001, 0x0002]);
    assert.deepEqual(
      out.map((d) => (d.ok ? [d.signal, d.value, d.offset] : d.code)),
      [
        ['temp', 21.5, 0],
        ['flow', 1234.5677490234375, 1],
        ['hours', 65538, 3],
      ],
    );
  });

  it('out-of-range offsets give an error result for that entry only', () => {
    const map = compile([
      { signal: 'a', offset: 0, type: 'uint16' },
      { signal: 'b', offset: 1, type: 'float32' },
      { signal: 'c', offset: 5, type: 'uint16' },
    ]);
    const out = decodeRegisters(map, [7, 8]);
    assert.ok(out[0].ok && out[0].value === 7);
    assert.ok(!out[1].ok);
    assert.equal(out[1].code, 'out_of_range');
    assert.match(out[1].message, /registers 1\.\.2 are outside the 2 registers read/);
    assert.ok(!out[2].ok && out[2].code === 'out_of_range');
  });

  it('an odd trailing byte in the buffer is not a register', () => {
    const map = compile([{ signal: 'a', offset: 1, type: 'uint16' }]);
    const d = decodeRegisters(map, Buffer.from([0, 1, 2]))[0];
    assert.ok(!d.ok && d.code === 'out_of_range');
  });

  it('malformed registers give invalid_register', () => {
    for (const bad of [1.5, 70000, -40000, NaN]) {
      const d = decodeRegisters(compile([{ signal: 'a', offset: 0, type: 'int32' }]), [0, bad])[0];
      assert.ok(!d.ok, String(bad));
      assert.equal(d.code, 'invalid_register');
      assert.match(d.message, /register 1 is/);
    }
  });

  it('NaN and infinite floats give not_finite', () => {
    assert.equal((one({ type: 'float32' }, [0x7fc0, 0x0000]) as { code: string }).code, 'not_finite');
    assert.equal((one({ type: 'float32' }, [0x7f80, 0x0000]) as { code: string }).code, 'not_finite');
  });
});

describe('register map validation', () => {
  const errorsOf = (input: unknown): string[] => {
    const r = compileRegisterMap(input);
    assert.ok(!r.ok, 'expected errors');
    return r.errors;
  };

  it('names each bad entry with a readable reason', () => {
    const errors = errorsOf([
      { signal: 'ok', offset: 0, type: 'uint16' },
      { signal: 'temp', offset: 1, type: 'float' },
      { signal: 'flow', offset: 2, type: 'float32', order: 'BIG' },
      { signal: 'x', offset: -1, type: 'uint16' },
      { signal: 'y', type: 'uint16' },
      { signal: '9bad', offset: 3, type: 'uint16' },
      { signal: 'z', offset: 4, type: 'uint16', colour: 'red' },
    ]);
    assert.deepEqual(errors, [
      'entry 2 (temp): type must be one of bit, int16, uint16, int32, uint32, float32, float64',
      'entry 3 (flow): order must be one of ABCD, CDAB, BADC, DCBA',
      'entry 4 (x): offset must be >= 0',
      'entry 5 (y): missing offset',
      'entry 6 (9bad): signal must start with a letter and use only letters, digits, _ . - (max 64)',
      'entry 7 (z): unknown field "colour"',
    ]);
  });

  it('checks bit, scale, bias, duplicates and the end of the address space', () => {
    assert.deepEqual(errorsOf([{ signal: 'a', offset: 0, type: 'bit' }]), ['entry 1 (a): type bit needs bit (0-15)']);
    assert.deepEqual(errorsOf([{ signal: 'a', offset: 0, type: 'uint16', bit: 3 }]), ['entry 1 (a): bit only applies to type bit']);
    assert.deepEqual(errorsOf([{ signal: 'a', offset: 0, type: 'bit', bit: 16 }]), ['entry 1 (a): bit must be <= 15']);
    assert.deepEqual(errorsOf([{ signal: 'a', offset: 0, type: 'uint16', scale: 0 }]), ['entry 1 (a): scale must not be 0']);
    assert.deepEqual(errorsOf([{ signal: 'a', offset: 0, type: 'uint16', bias: Infinity }]), ['entry 1 (a): bias must be a number']);
    assert.deepEqual(
      errorsOf([
        { signal: 'a', offset: 0, type: 'uint16' },
        { signal: 'a', offset: 1, type: 'uint16' },
      ]),
      ['entry 2 (a): signal also mapped by entry 1'],
    );
    assert.deepEqual(errorsOf([{ signal: 'a', offset: 65535, type: 'float32' }]), ['entry 1 (a): offset 65535 + 2 registers is past register 65535']);
  });

  it('rejects non-arrays, empty maps and non-object entries', () => {
    assert.deepEqual(errorsOf({}), ['register map must be an array of entries']);
    assert.deepEqual(errorsOf([]), ['register map is empty']);
    assert.deepEqual(errorsOf([42]), ['entry 1: entry must be an object']);
  });
});

describe('register map import', () => {
  it('parses JSON as an array or { registers }', () => {
    const a = parseRegisterMapJson('[{"signal":"t","offset":0,"type":"int16","scale":0.1,"unit":"°C"}]');
    const b = parseRegisterMapJson('{"registers":[{"signal":"t","offset":0,"type":"int16","scale":0.1,"unit":"°C"}]}');
    assert.ok(a.ok && b.ok);
    assert.deepEqual(a.map, b.map);
    assert.equal(a.map.entries[0].scale, 0.1);
    const bad = parseRegisterMapJson('[{"signal":');
    assert.ok(!bad.ok);
    assert.match(bad.errors[0], /^not valid JSON: /);
  });

  it('parses CSV with a header, defaults, quotes, comments and any column order', () => {
    const csv = [
      '# pump P-101 PLC',
      'Signal,Type,Offset,Order,Scale,Bias,Unit,Bit',
      'motor_temp,int16,0,,0.1,,°C,',
      'flow,float32,1,CDAB,,,m³/h,',
      '',
      '"running",bit,3,,,,"",4',
      'pressure,uint16,4,,0.01,-1,"bar, gauge",',
    ].join('\r\n');
    const r = parseRegisterMapCsv(csv);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(
      r.map.entries.map((e) => [e.signal, e.type, e.offset, e.order, e.scale, e.bias, e.unit, e.bit]),
      [
        ['motor_temp', 'int16', 0, 'ABCD', 0.1, 0, '°C', 0],
        ['flow', 'float32', 1, 'CDAB', 1, 0, 'm³/h', 0],
        ['running', 'bit', 3, 'ABCD', 1, 0, '', 4],
        ['pressure', 'uint16', 4, 'ABCD', 0.01, -1, 'bar, gauge', 0],
      ],
    );
  });

  it('parses semicolon CSV from spreadsheets and reports errors by line', () => {
    const ok = parseRegisterMapCsv('\uFEFFsignal;offset;type;scale\ntemp;0;int16;0.1\n');
    assert.ok(ok.ok && ok.map.entries[0].scale === 0.1);
    const bad = parseRegisterMapCsv('signal,offset,type\ntemp,0,int16\nflow,two,float32\nrpm,3,int64\n');
    assert.ok(!bad.ok);
    assert.deepEqual(bad.errors, ['line 3 (flow): offset must be an integer', 'line 4 (rpm): type must be one of bit, int16, uint16, int32, uint32, float32, float64']);
  });

  it('rejects unknown or missing columns, extra cells and empty files', () => {
    const unknown = parseRegisterMapCsv('signal,offset,type,scael\nt,0,int16,2\n');
    assert.ok(!unknown.ok);
    assert.match(unknown.errors[0], /^line 1: unknown column "scael"/);
    const missing = parseRegisterMapCsv('signal,type\nt,int16\n');
    assert.ok(!missing.ok);
    assert.deepEqual(missing.errors, ['line 1: missing column "offset"']);
    const extra = parseRegisterMapCsv('signal,offset,type\nt,0,int16,oops\n');
    assert.ok(!extra.ok);
    assert.deepEqual(extra.errors, ['line 2: more cells than header columns']);
    const empty = parseRegisterMapCsv('  \n# nothing\n');
    assert.ok(!empty.ok);
    assert.deepEqual(empty.errors, ['CSV is empty']);
    const headerOnly = parseRegisterMapCsv('signal,offset,type\n');
    assert.ok(!headerOnly.ok);
    assert.deepEqual(headerOnly.errors, ['CSV has a header but no entries']);
  });
});
