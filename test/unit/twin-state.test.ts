import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperatingStateMachine, type OperatingState } from '../../nodes/lib/twin/operating-state';
import { THRESHOLDS } from '../helpers/asset-fixture';

/** Replays a current trace [tMs, amps] and returns the state after each sample. */
function run(trace: [number, number][], machine = new OperatingStateMachine(THRESHOLDS, 20, undefined)): OperatingState[] {
  return trace.map(([t, amps]) => {
    machine.observe('current', amps, t);
    return machine.state;
  });
}

/** 1 Hz samples: off, a 6× inrush start, running at 80 %, a load step to 25 %, back, an overload, a stop. */
function dayTrace(): [number, number][] {
  const trace: [number, number][] = [];
  let t = 0;
  const hold = (amps: number, seconds: number) => {
    for (let i = 0; i < seconds; i++) trace.push([(t += 1000), amps]);
  };
  hold(0, 5);
  hold(120, 3); // inrush: 6× rated
  hold(40, 3); // settling, still inside the 10 s startup window
  hold(16, 20); // running
  hold(5, 10); // idle
  hold(16, 10); // running again
  hold(26, 10); // overload
  hold(16, 5);
  hold(0, 10); // stop
  return trace;
}

test('a start masks inrush as startup, then running, idle, overload and a timed shutdown to off', () => {
  const states = run(dayTrace());
  const collapsed = states.filter((s, i) => i === 0 || s !== states[i - 1]);
  assert.deepEqual(collapsed, ['off', 'startup', 'running', 'idle', 'running', 'overload', 'running', 'shutdown', 'off']);
  // Inrush (6× rated) never reads as overload.
  assert.ok(!states.slice(5, 15).includes('overload'));
  // The startup window lasts 10 s from the first non-off sample.
  assert.equal(states.indexOf('running'), 5 + 10);
});

test('shutdown lasts its window and a restart inside it returns to running', () => {
  const m = new OperatingStateMachine(THRESHOLDS, 20, undefined);
  run([[0, 16]], m);
  assert.equal(m.state, 'running', 'first value: we did not see it start');
  m.observe('current', 0, 1000);
  assert.equal(m.state, 'shutdown');
  m.observe('current', 0, 3000);
  assert.equal(m.state, 'shutdown');
  m.observe('current', 16, 4000);
  assert.equal(m.state, 'running');
  m.observe('current', 0, 5000);
  assert.deepEqual(m.tick(9999), []);
  assert.equal(m.tick(10_000)[0]?.to, 'off', 'the window expires on a tick without data');
});

test('an aborted start runs down through shutdown', () => {
  const m = new OperatingStateMachine(THRESHOLDS, 20, undefined);
  run([[0, 0], [1000, 100], [2000, 0]], m);
  assert.equal(m.state, 'shutdown');
});

test('speed drives the state when no rated current is known', () => {
  const m = new OperatingStateMachine(THRESHOLDS, undefined, 1500);
  assert.equal(m.drivesState('current'), false);
  m.observe('speed', 0, 0);
  m.observe('speed', 1450, 1000);
  assert.equal(m.state, 'startup');
  m.observe('speed', 1450, 12_000);
  assert.equal(m.state, 'running');
});

test('other signals and out-of-order values do not move the state', () => {
  const m = new OperatingStateMachine(THRESHOLDS, 20, undefined);
  m.observe('current', 16, 5000);
  m.observe('vibration_velocity', 0, 6000);
  m.observe('current', 0, 4000);
  assert.equal(m.state, 'running');
});

test('state round-trips through JSON', () => {
  const m = new OperatingStateMachine(THRESHOLDS, 20, undefined);
  run([[0, 0], [1000, 100]], m);
  const copy = new OperatingStateMachine(THRESHOLDS, 20, undefined);
  copy.restore(JSON.parse(JSON.stringify(m.toJSON())));
  assert.equal(copy.state, 'startup');
  copy.observe('current', 16, 11_000);
  assert.equal(copy.state, 'running');
});
