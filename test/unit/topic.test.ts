import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assetTopic, isValidRootTopic, mergePath, parseAssetPath, topicSegment } from '../../nodes/lib/topic';

test('clean topic follows the namespace', () => {
  assert.equal(
    assetTopic('pdm', { site: 'plant1', area: 'utilities', line: 'l2' }, 'P-101', 'clean', 'vibration_velocity'),
    'pdm/plant1/utilities/l2/P-101/clean/vibration_velocity',
  );
  assert.equal(assetTopic('acme/v1', {}, 'M1', 'state'), 'acme/v1/_/_/_/M1/state');
});

test('segments cannot smuggle separators or wildcards', () => {
  assert.equal(topicSegment('a/b+c#d e'), 'a_b_c_d_e');
  assert.equal(topicSegment(''), '_');
});

test('path from object or string, levels merge one by one', () => {
  assert.deepEqual(parseAssetPath('s1/a1/l1'), { site: 's1', area: 'a1', line: 'l1' });
  assert.deepEqual(parseAssetPath({ site: 's2', line: 7 }), { site: 's2', area: undefined, line: undefined });
  assert.equal(parseAssetPath(42), undefined);
  assert.deepEqual(mergePath({ site: 'x' }, { site: 's', area: 'a', line: 'l' }), { site: 'x', area: 'a', line: 'l' });
});

test('root topic validation', () => {
  assert.ok(isValidRootTopic('pdm'));
  assert.ok(isValidRootTopic('acme/pdm'));
  for (const bad of ['', '/pdm', 'pdm/', 'a/+/b', 'a/#', 'a b']) assert.ok(!isValidRootTopic(bad), bad);
});
