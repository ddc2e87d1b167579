/**
 * Messages → journal records → the wire (nodes/lib/buffer/record.ts, frame.ts, crc32.ts):
 * idempotency keys, clean topics, which payloads need a topic, retain only where the namespace
 * retains, the historical flag, the body codec and the frame checksum.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { crc32, crc32Portable } from '../../nodes/lib/buffer/crc32';
import { encodeFrame, readFrame } from '../../nodes/lib/buffer/frame';
import { decodeBody, encodeBody, idempotencyKey, isPublishTopic, isReadingLike, recordsOf, wirePayload, type RecordInput } from '../../nodes/lib/buffer/record';

const reading = (assetId = 'M-1', signal = 'current', ts = 1_700_000_000_000, extra: Record<string, unknown> = {}) => ({ assetId, signal, value: 16.2, unit: 'A', ts, quality: 'good', ...extra });
const opts = { root: 'pdm' };

describe('idempotency key and reading detection', () => {
  test('the key is asset/signal/ts with each part URI-encoded, so it is unambiguous', () => {
    assert.equal(idempotencyKey('M-1', 'current', 5), 'M-1/current/5');
    assert.equal(idempotencyKey('a/b', 'c', 1), 'a%2Fb/c/1');
    assert.notEqual(idempotencyKey('a/b', 'c', 1), idempotencyKey('a', 'b/c', 1));
    assert.equal(idempotencyKey('unit 7|x', 'vibration_velocity', 0), 'unit%207%7Cx/vibration_velocity/0');
  });

  test('a reading needs a non-empty asset id and signal and an integer epoch-ms ts', () => {
    assert.equal(isReadingLike(reading()), true);
    assert.equal(isReadingLike({ ...reading(), ts: 1.5 }), false);
    assert.equal(isReadingLike({ ...reading(), ts: -1 }), false);
    assert.equal(isReadingLike({ ...reading(), ts: '2024-01-01' }), false);
    assert.equal(isReadingLike({ ...reading(), assetId: '' }), false);
    assert.equal(isReadingLike([reading()]), false);
    assert.equal(isReadingLike(null), false);
  });

  test('publish topics: no wildcards, no NUL, not empty, not $-prefixed', () => {
    for (const t of ['pdm/a/b', 'x', 'a//b', 'ü/ä']) assert.equal(isPublishTopic(t), true, t);
    for (const t of ['', 'a/+/b', 'a/#', '$SYS/x', 'a\u0000b', 5, undefined]) assert.equal(isPublishTopic(t), false, String(t));
  });
});

describe('messages → records', () => {
  test('a single reading without topic goes to its clean topic, keyed, never retained', () => {
    const { records, rejects } = recordsOf({ payload: reading(), retain: true }, { root: 'pdm', pathOf: () => ({ site: 'plant1', area: 'utilities', line: 'l1' }) });
    assert.deepEqual(rejects, []);
    assert.equal(records.length, 1);
    assert.equal(records[0].topic, 'pdm/plant1/utilities/l1/M-1/clean/current');
    assert.equal(records[0].key, 'M-1/current/1700000000000');
    assert.equal(records[0].asset, 'M-1');
    assert.equal(records[0].retain, undefined);
    assert.deepEqual(JSON.parse(records[0].payload), reading());
  });

  test('a single reading keeps its msg.topic; a bad topic is rejected', () => {
    assert.equal(recordsOf({ topic: 'site/x/clean/current', payload: reading() }, opts).records[0].topic, 'site/x/clean/current');
    assert.deepEqual(recordsOf({ topic: 'a/+/b', payload: reading() }, opts).rejects.map((r) => r.code), ['bad_topic']);
  });

  test('an array is split into one record per reading on its own clean topic; junk items are rejected by index', () => {
    const { records, positions, rejects } = recordsOf({ topic: 'ignored/for/arrays', payload: [reading('A', 'current', 1), 'junk', reading('B', 'speed', 2), { assetId: 'C' }] }, opts);
    assert.deepEqual(records.map((r) => r.topic), ['pdm/_/_/_/A/clean/current', 'pdm/_/_/_/B/clean/speed']);
    assert.deepEqual(positions, [0, 2]);
    assert.deepEqual(rejects.map((r) => [r.index, r.code]), [[1, 'not_a_reading'], [3, 'not_a_reading']]);
    assert.deepEqual(recordsOf({ payload: [] }, opts).rejects.map((r) => r.code), ['empty']);
  });

  test('anything else needs msg.topic and is stored as it is: JSON, string, bytes', () => {
    assert.deepEqual(recordsOf({ payload: { state: 'running' } }, opts).rejects.map((r) => r.code), ['no_topic']);
    assert.deepEqual(recordsOf({ topic: 't/x' }, opts).rejects.map((r) => r.code), ['no_payload']);
    const json = recordsOf({ topic: 'pdm/s/a/l/M-1/event', payload: { assetId: 'M-1', kind: 'maintenance' } }, opts).records[0];
    assert.deepEqual([json.enc, json.asset, JSON.parse(json.payload).kind], ['json', 'M-1', 'maintenance']);
    const str = recordsOf({ topic: 't/s', payload: 'hello' }, opts).records[0];
    assert.deepEqual([str.enc, str.payload], ['string', 'hello']);
    const bin = recordsOf({ topic: 't/b', payload: Buffer.from([0, 255, 7]) }, opts).records[0];
    assert.equal(bin.enc, 'base64');
    assert.deepEqual(wirePayload(bin, true), Buffer.from([0, 255, 7]));
    const num = recordsOf({ topic: 't/n', payload: 42 }, opts).records[0];
    assert.deepEqual([num.enc, num.payload], ['json', '42']);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.deepEqual(recordsOf({ topic: 't/c', payload: circular }, opts).rejects.map((r) => r.code), ['not_serialisable']);
    assert.equal(recordsOf({ topic: 't/k', payload: { a: 1 }, idempotencyKey: 'k1' }, opts).records[0].key, 'k1');
  });

  test('retain is kept only for state, alert and model topics', () => {
    const r = (topic: string) => recordsOf({ topic, payload: { x: 1 }, retain: true }, opts).records[0].retain;
    assert.equal(r('pdm/s/a/l/M-1/state'), true);
    assert.equal(r('pdm/s/a/l/M-1/alert'), true);
    assert.equal(r('pdm/s/a/l/M-1/model'), true);
    assert.equal(r('pdm/s/a/l/M-1/event'), undefined);
    assert.equal(r('pdm/s/a/l/M-1/raw/current'), undefined);
  });

  test('historical: an incoming flag is kept as a record flag, and replays add "historical": true', () => {
    const rec = recordsOf({ payload: reading('M-1', 'current', 1, { historical: true }) }, opts).records[0];
    assert.equal(rec.historical, true);
    assert.equal('historical' in JSON.parse(rec.payload), false, 'stored without the flag');
    const live = recordsOf({ payload: reading('M-1', 'current', 1, { historical: false }) }, opts).records[0];
    assert.equal(live.historical, undefined);
    assert.deepEqual(JSON.parse(wirePayload(live, false) as string), reading('M-1', 'current', 1));
    assert.deepEqual(JSON.parse(wirePayload(live, true) as string), { ...reading('M-1', 'current', 1), historical: true });
    assert.equal(wirePayload({ topic: 't', payload: '{}', enc: 'json' }, true), '{"historical":true}');
    assert.equal(wirePayload({ topic: 't', payload: '[1]', enc: 'json' }, true), '[1]', 'arrays are left alone');
    assert.equal(wirePayload({ topic: 't', payload: 'text', enc: 'string' }, true), 'text');
  });
});

describe('body codec and frames', () => {
  test('a record survives encode → frame → decode', () => {
    const recs: RecordInput[] = [
      { topic: 'pdm/_/_/_/M-1/clean/current', payload: JSON.stringify(reading()), enc: 'json', key: 'M-1/current/1700000000000', asset: 'M-1' },
      { topic: 't/ü "quoted"', payload: 'line\nbreak "and" \\ ü', enc: 'string', retain: true, historical: true },
      { topic: 't/b', payload: Buffer.from('bytes').toString('base64'), enc: 'base64' },
    ];
    for (const [i, r] of recs.entries()) {
      const frame = encodeFrame(encodeBody(r, i + 10, 1234));
      const fr = readFrame(frame, 0);
      assert.equal(fr.kind, 'frame');
      const back = decodeBody((fr as { body: string }).body, frame.length)!;
      assert.deepEqual(back, { ...r, seq: i + 10, ts: 1234, bytes: frame.length, gen: 0 });
    }
  });

  test('a cut frame reads as short, a flipped bit as corrupt', () => {
    const frame = encodeFrame(encodeBody({ topic: 't', payload: '1', enc: 'json' }, 0, 0));
    assert.equal(readFrame(frame.subarray(0, frame.length - 1), 0).kind, 'short');
    for (let i = 0; i < frame.length; i++) {
      const bad = Buffer.from(frame);
      bad[i] ^= 1;
      assert.notEqual(readFrame(bad, 0).kind, 'frame', `bit flip at byte ${i} went unnoticed`);
    }
  });

  test('non-records are not decoded', () => {
    for (const body of ['', 'null', '[]', '{"s":-1,"t":0,"q":"t","e":"j","p":1}', '{"s":1,"t":0,"q":"t","e":"x","p":1}', '{"s":1,"t":0,"q":"t","e":"s","p":1}', '{"s":1,"t":0,"e":"j","p":1}']) {
      assert.equal(decodeBody(body, 10), undefined, body);
    }
  });

  test('the portable CRC-32 equals zlib', () => {
    const buf = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff));
    const z = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
    assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    if (z) assert.equal(crc32Portable(buf), z(buf) >>> 0);
    assert.equal(crc32Portable(buf, 100, 300), crc32(buf, 100, 300));
  });
});
