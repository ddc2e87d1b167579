import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileTagMap, normaliseAddress } from '../../nodes/lib/retrofit/tags';

describe('tag map', () => {
  it('looks tags up by NodeId regardless of datatype tail or an explicit ns=0', () => {
    const r = compileTagMap([
      { address: 'ns=3;s=Motor.Temp;datatype=Double', signal: 'winding_temperature', unit: '°C' },
      { address: 'ns=0;i=2258', signal: 'server_time' },
      { address: 'vib.x', signal: 'vibration_velocity', unit: 'in/s', scale: 2, bias: 1 },
    ]);
    assert.ok(r.ok);
    assert.deepEqual(r.map.lookup('ns=3;s=Motor.Temp'), { address: 'ns=3;s=Motor.Temp', signal: 'winding_temperature', unit: '°C', scale: 1, bias: 0 });
    assert.equal(r.map.lookup('i=2258')?.signal, 'server_time');
    assert.equal(r.map.lookup('vib.x')?.scale, 2);
    assert.equal(r.map.lookup('ns=3;s=Other'), undefined);
    assert.equal(normaliseAddress(' ns=0;i=85;datatype=Int32 '), 'i=85');
  });

  it('reports invalid entries and duplicates', () => {
    const r = compileTagMap([
      { address: 'ns=1;s=A', signal: 'a' },
      { address: 'ns=1;s=A;datatype=Double', signal: 'b' },
      { address: '', signal: 'c' },
      { address: 'x', signal: 'd', scale: 0 },
      { address: 'y' },
    ]);
    assert.ok(!r.ok);
    assert.deepEqual(r.errors, [
      'entry 2 (b): address ns=1;s=A is mapped twice',
      'entry 3: /address must NOT have fewer than 1 characters',
      'entry 4 (d): scale must not be 0',
      "entry 5: (root) must have required property 'signal'",
    ]);
    assert.deepEqual(compileTagMap('nope'), { ok: false, errors: ['tag map must be an array of entries'] });
  });
});
