import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { parseAssets, type SimAsset } from '../lib/simulate/config';
import { MAX_ADVANCE_MS, PlantSimulator, type SimBatch } from '../lib/simulate/plant';
import { SimClock } from '../lib/simulate/clock';
import { MAX_READINGS_PER_TICK, parseSimSettings, type SimSettings } from '../lib/simulate/settings';
import { encodeRegisters, modbusLayout, modbusReadMessage, opcuaItemMessage, opcuaTagMap, type ModbusLayout } from '../lib/simulate/shapes';
import type { TruthEvent } from '../lib/simulate/faults';
import type { Reading } from '../lib/contracts/reading';
import { toEpochMs } from '../lib/time';
import type { AssetPath } from '../lib/topic';
import { StatusThrottle } from '../lib/status-throttle';

interface SimulateNodeDef extends NodeDef {
  assets: string;
  seed: string | number;
  interval: string | number;
  clock: string;
  factor: string | number;
  stepSec: string | number;
  historyHours: string | number;
  hold: boolean;
  shifts: boolean;
  sampleSec: string | number;
  shape: string;
  autoStart: boolean;
}

type InMsg = NodeMessageInFlow & Record<string, unknown>;
/** Messages this node creates (Node-RED adds _msgid when it sends them). */
type Msg = Record<string, unknown>;
type Send = (msg: Array<Msg | Msg[] | null>) => void;

const COMMANDS = ['start', 'stop', 'reset', 'inject-fault', 'truth', 'tick'] as const;
type Command = (typeof COMMANDS)[number];
/** Delay before the first tick after a deploy, so every node of the flow is wired up. */
const FIRST_TICK_MS = 100;
const TOPIC = 'pdm-simulate';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const pick = (list: Msg[]): Msg | Msg[] | null => (list.length === 0 ? null : list.length === 1 ? list[0] : list);
/** Simulated time for the status line: "2025-06-02 14:05" (UTC). */
const clockText = (ts: number) => new Date(ts).toISOString().slice(0, 16).replace('T', ' ');

export = function register(RED: NodeAPI): void {
  function PdmSimulateNode(this: Node, config: SimulateNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;

    let settings: SimSettings | undefined;
    let assets: SimAsset[] | undefined;
    let configError: string | undefined;
    try {
      settings = parseSimSettings(config);
      assets = parseAssets(config.assets);
    } catch (err) {
      configError = (err as Error).message;
    }

    let sim: PlantSimulator | undefined;
    let clock: SimClock | undefined;
    let layouts = new Map<string, ModbusLayout>();
    let paths = new Map<string, AssetPath>();
    let maxSpanMs = 0;
    let fleetPending = false;
    let running = false;
    let failed = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    let kick: ReturnType<typeof setTimeout> | undefined;
    let polls = 0;

    const status = new StatusThrottle(1000, () => {
      if (configError || failed || !sim || !settings) {
        node.status({ fill: 'red', shape: 'ring', text: RED._(configError ? 'pdm-simulate.status.config-error' : 'pdm-simulate.status.failed') });
        return;
      }
      const c = settings.clock;
      const speed = c.mode === 'step' ? RED._('pdm-simulate.status.step', { seconds: c.stepSec }) : RED._('pdm-simulate.status.factor', { factor: c.factor });
      const params = { time: clockText(Math.max(sim.now, sim.start)), assets: sim.size, speed };
      const faulty = sim.truth().some((f) => f.phase === 'active' || f.phase === 'failed');
      node.status({
        fill: !running ? 'grey' : faulty ? 'yellow' : 'green',
        shape: running ? 'dot' : 'ring',
        text: RED._(running ? 'pdm-simulate.status.running' : 'pdm-simulate.status.stopped', params),
      });
    });

    // ---- simulation ------------------------------------------------------------------------
    function build(seed: number, start: number): void {
      sim = new PlantSimulator({ seed, start, assets, shifts: settings!.shifts, sampleSec: settings!.sampleSec });
      clock = new SimClock(settings!.clock);
      clock.resume(Date.now(), sim.start);
      layouts = new Map(sim.assets.map((a, i) => [a.resolved.id, modbusLayout(a.resolved.id, (i % 247) + 1, unitsOf(a))]));
      paths = new Map(sim.assets.filter((a) => a.config.path).map((a) => [a.resolved.id, a.config.path!]));
      maxSpanMs = Math.min(MAX_ADVANCE_MS, Math.max(1000, Math.floor(MAX_READINGS_PER_TICK / Math.max(1e-9, sim.readingRate())) * 1000));
      fleetPending = true;
    }

    function unitsOf(a: SimAsset): { signal: string; unit: string }[] {
      return a.resolved.sensors.map((s) => ({ signal: s.signal, unit: s.unit }));
    }

    function fleetMsg(): Msg {
      const s = sim!;
      return {
        topic: `${TOPIC}/fleet`,
        payload: {
          kind: 'fleet',
          seed: s.seed,
          start: s.start,
          shape: settings!.shape,
          assets: s.fleet(),
          modbus: s.assets.map((a) => {
            const l = layouts.get(a.resolved.id)!;
            return { assetId: l.assetId, unitId: l.unitId, fc: 3, address: 0, quantity: l.quantity, registers: l.entries };
          }),
          opcua: s.assets.map((a) => ({ assetId: a.resolved.id, tags: opcuaTagMap(a.resolved.id, unitsOf(a)) })),
        },
      };
    }

    const eventMsg = (e: TruthEvent): Msg => ({ topic: `${TOPIC}/truth/${e.assetId}`, payload: e });

    /** Output 1 in the configured shape. */
    function shaped(batch: SimBatch): Msg[] {
      const s = sim!;
      switch (settings!.shape) {
        case 'opcua':
          return batch.readings.map((r) => ({ ...opcuaItemMessage(r), assetId: r.assetId }));
        case 'modbus': {
          if (batch.to <= batch.from) return [];
          const out: Msg[] = [];
          for (const a of s.assets) {
            const id = a.resolved.id;
            const machine = s.machine(id)!;
            if (machine.offline() || machine.latest().size === 0) continue;
            const values = new Map([...machine.latest()].map(([signal, v]) => [signal, v.value]));
            const layout = layouts.get(id)!;
            const { registers } = encodeRegisters(layout, values);
            out.push({ ...modbusReadMessage(layout, registers, `${node.id}-${++polls}`), sendingNodeId: node.id, assetId: id, simTime: batch.to });
          }
          return out;
        }
        default: {
          // One message per asset: pdm-normalise copies the message once per reading it emits,
          // so smaller arrays keep its work linear in practice.
          const byAsset = new Map<string, Reading[]>();
          for (const r of batch.readings) {
            const list = byAsset.get(r.assetId);
            if (list) list.push(r);
            else byAsset.set(r.assetId, [r]);
          }
          return [...byAsset].map(([assetId, readings]) => {
            const msg: Msg = { topic: `${TOPIC}/readings/${assetId}`, payload: readings, assetId, simTime: batch.to };
            // pdm-normalise builds its topics from msg.path.
            const assetPath = paths.get(assetId);
            if (assetPath) msg.path = { ...assetPath };
            return msg;
          });
        }
      }
    }

    function emit(send: Send, batch: SimBatch): void {
      const truth: Msg[] = [];
      if (fleetPending) {
        truth.push(fleetMsg());
        fleetPending = false;
      }
      for (const e of batch.events) truth.push(eventMsg(e));
      const readings = shaped(batch);
      if (readings.length > 0 || truth.length > 0) send([pick(readings), pick(truth)]);
    }

    function tick(send: Send): void {
      if (!sim || !clock) return;
      const target = Math.min(clock.target(Date.now(), sim.now), sim.now + maxSpanMs);
      emit(send, sim.advanceTo(target));
      status.update();
    }

    function timedTick(): void {
      try {
        tick((m) => node.send(m as unknown as Parameters<typeof node.send>[0]));
      } catch (err) {
        // A tick that throws would throw again on the next one: stop, say why.
        failed = true;
        halt();
        node.error(RED._('pdm-simulate.errors.tick', { error: (err as Error).message }));
        status.update();
      }
    }

    function halt(): void {
      running = false;
      if (timer) clearInterval(timer);
      if (kick) clearTimeout(kick);
      timer = kick = undefined;
    }

    /** Starts ticking; `firstTickMs`: when the first timed tick comes (none: the caller ticks). */
    function begin(firstTickMs?: number): boolean {
      if (running || !sim || !clock || !settings) return false;
      running = true;
      failed = false;
      clock.resume(Date.now(), Math.max(sim.now, sim.start));
      if (settings.intervalMs > 0) timer = setInterval(timedTick, settings.intervalMs);
      if (settings.intervalMs > 0 && firstTickMs !== undefined) {
        kick = setTimeout(() => {
          kick = undefined;
          timedTick();
        }, firstTickMs);
      }
      status.update();
      return true;
    }

    // ---- commands ------------------------------------------------------------------------
    function command(name: Command, msg: InMsg, send: Send, done: (err?: Error) => void): void {
      const s = sim!;
      switch (name) {
        case 'start':
          if (begin()) tick(send);
          return done();
        case 'stop':
          halt();
          status.update();
          return done();
        case 'reset': {
          const p = isObj(msg.payload) ? msg.payload : {};
          const seed = p.seed === undefined ? settings!.seed : Number(p.seed);
          if (!Number.isSafeInteger(seed)) return done(new Error(RED._('pdm-simulate.errors.reset', { error: 'seed must be a whole number' })));
          const start = p.start === undefined ? Date.now() - settings!.historyMs : toEpochMs(p.start);
          if (start === undefined || start < 0) return done(new Error(RED._('pdm-simulate.errors.reset', { error: 'start must be epoch ms or an ISO 8601 time' })));
          build(seed, start);
          failed = false;
          // Tell downstream about the new plant at once; readings follow on the next tick.
          emit(send, sim!.advanceTo(sim!.now));
          if (running) clock!.resume(Date.now(), sim!.start);
          status.update();
          return done();
        }
        case 'inject-fault': {
          if (!isObj(msg.payload)) return done(new Error(RED._('pdm-simulate.errors.inject', { error: 'payload must be an object {assetId, type, durationHours, onsetHours?}' })));
          const { assetId: fromPayload, ...fault } = msg.payload;
          const assetId = typeof fromPayload === 'string' ? fromPayload : typeof msg.assetId === 'string' ? msg.assetId : undefined;
          if (!assetId) return done(new Error(RED._('pdm-simulate.errors.inject', { error: 'payload.assetId is missing' })));
          if (fault.onsetHours === undefined) fault.onsetHours = 0;
          try {
            s.injectFault(assetId, fault);
          } catch (err) {
            return done(new Error(RED._('pdm-simulate.errors.inject', { error: (err as Error).message })));
          }
          // The `scheduled` event goes out now.
          emit(send, s.advanceTo(s.now));
          status.update();
          return done();
        }
        case 'truth':
          send([null, { topic: `${TOPIC}/truth`, payload: { kind: 'truth', simTime: Math.max(s.now, s.start), faults: s.truth() } }]);
          return done();
        case 'tick':
          tick(send);
          return done();
      }
    }

    node.on('input', (msg: InMsg, send, done) => {
      try {
        const name = typeof msg.command === 'string' ? msg.command : typeof msg.payload === 'string' ? msg.payload : undefined;
        if (!name || !(COMMANDS as readonly string[]).includes(name)) {
          done(new Error(RED._('pdm-simulate.errors.unknown-command', { command: String(name ?? '') })));
          return;
        }
        if (configError || !sim) {
          done(new Error(RED._('pdm-simulate.errors.config', { error: configError ?? '' })));
          return;
        }
        command(name as Command, msg, send as Send, done);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      halt();
      status.stop();
      done();
    });

    if (configError || !settings) {
      node.error(RED._('pdm-simulate.errors.config', { error: configError ?? '' }));
      status.update();
      return;
    }
    build(settings.seed, Date.now() - settings.historyMs);
    if (settings.autoStart) begin(FIRST_TICK_MS);
    else status.update();
  }

  RED.nodes.registerType('pdm-simulate', PdmSimulateNode);
};
