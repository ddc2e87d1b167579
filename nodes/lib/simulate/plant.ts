/**
 * PlantSimulator: a seeded, deterministic plant of simulated machines on a simulated clock.
 *
 * Simulated time advances in one-second steps from `start`. Each signal is sampled on its own
 * grid (the class's typical interval, or every `sampleSec`), so what comes out up to a time T is
 * the same however the caller slices the advance into ticks: byte-identical for the same seed and
 * configuration. The caller decides how simulated time relates to the wall clock (see clock.ts).
 */
import type { Reading } from '../contracts/reading';
import type { AssetConfig } from '../assets/types';
import { fleetOf, prepareAssets, DEFAULT_ASSETS, SimConfigError, type SimAsset } from './config';
import { faultProblem, type FaultConfig, type TruthEvent, type TruthFault } from './faults';
import { Machine, STEP_MS, type MachineState } from './machine';

export interface SimulatorOptions {
  /** Integer seed; default 1. */
  seed?: number;
  /** Simulated start (epoch ms, floored to a whole second). */
  start: number;
  /** Assets (validated); default DEFAULT_ASSETS. Pass prepared SimAsset[] from parseAssets, or raw configs. */
  assets?: readonly SimAsset[] | readonly unknown[];
  /** Monday–Friday 06:00–22:00 UTC shifts for assets on the `auto` schedule; default off (24/7). */
  shifts?: boolean;
  /** Sample every signal every this many simulated seconds instead of its class interval. */
  sampleSec?: number;
}

export interface SimBatch {
  /** Simulated time before this advance (exclusive) and after it (inclusive), epoch ms. */
  from: number;
  to: number;
  /** Readings in time order (within a step: asset order, then signal order). */
  readings: Reading[];
  /** Ground-truth events in time order. */
  events: TruthEvent[];
}

/** Advances longer than this are refused (protects a runtime from a huge single tick). */
export const MAX_ADVANCE_MS = 31 * 24 * 3_600_000;

function isPrepared(list: readonly unknown[]): list is readonly SimAsset[] {
  return list.every((a) => !!a && typeof a === 'object' && 'resolved' in a && 'signals' in a);
}

export class PlantSimulator {
  readonly seed: number;
  readonly start: number;
  readonly shifts: boolean;
  readonly sampleSec: number | undefined;
  readonly assets: readonly SimAsset[];
  private readonly machines: Machine[];
  private readonly byId = new Map<string, Machine>();
  /** The next step to simulate. */
  private next: number;
  /** `scheduled` events waiting for the next advance. */
  private pending: TruthEvent[] = [];

  constructor(options: SimulatorOptions) {
    const seed = options.seed ?? 1;
    if (!Number.isSafeInteger(seed)) throw new SimConfigError('invalid_option', 'seed must be an integer');
    if (!Number.isFinite(options.start) || options.start < 0) throw new SimConfigError('invalid_option', 'start must be an epoch time in ms ≥ 0');
    const sampleSec = options.sampleSec;
    if (sampleSec !== undefined && !(Number.isInteger(sampleSec) && sampleSec >= 1 && sampleSec <= 86_400)) {
      throw new SimConfigError('invalid_option', 'sampleSec must be a whole number of seconds from 1 to 86400');
    }
    this.seed = seed;
    this.start = Math.floor(options.start / STEP_MS) * STEP_MS;
    this.shifts = options.shifts ?? false;
    this.sampleSec = sampleSec;
    const list = options.assets ?? DEFAULT_ASSETS;
    this.assets = isPrepared(list) ? list : prepareAssets(list);
    this.machines = this.assets.map((a) => new Machine(a, seed, this.start, this.shifts, sampleSec === undefined ? undefined : sampleSec * 1000));
    for (const m of this.machines) this.byId.set(m.id, m);
    this.next = this.start;
    for (const m of this.machines) for (const truth of m.truth()) this.pending.push({ kind: 'fault', event: 'scheduled', ts: this.start, ...truth });
  }

  /** Simulated time of the last step taken (before the first advance: start − 1 s). */
  get now(): number {
    return this.next - STEP_MS;
  }

  /**
   * Simulates every step up to and including `to` (floored to a whole second). The first advance
   * includes the step at `start`, so the state before anything ran is reported too.
   */
  advanceTo(to: number): SimBatch {
    const target = Math.floor(to / STEP_MS) * STEP_MS;
    const from = this.now;
    if (target - from > MAX_ADVANCE_MS) throw new SimConfigError('invalid_option', `one advance may cover at most ${MAX_ADVANCE_MS / 86_400_000} simulated days`);
    const batch: SimBatch = { from, to: Math.max(from, target), readings: [], events: this.pending };
    this.pending = [];
    for (let t = this.next; t <= target; t += STEP_MS) {
      if (t !== this.start) for (const m of this.machines) m.step(t, batch.events);
      for (const m of this.machines) m.sample(t, batch.readings);
      this.next = t + STEP_MS;
    }
    return batch;
  }

  /** Simulates `ms` more (whole seconds). */
  advanceBy(ms: number): SimBatch {
    return this.advanceTo(this.now + ms);
  }

  /**
   * Injects a fault into a running simulation: `onsetHours` counts from the current simulated
   * time. Throws SimConfigError('invalid_fault') when it does not fit the asset. Returns its truth.
   */
  injectFault(assetId: string, fault: unknown): TruthFault {
    const machine = this.byId.get(assetId);
    if (!machine) throw new SimConfigError('invalid_fault', `there is no simulated asset "${assetId}" (${[...this.byId.keys()].join(', ')})`, assetId);
    const problem = faultProblem(fault, machine.asset.assetClass, machine.asset.signals);
    if (problem) throw new SimConfigError('invalid_fault', `asset ${assetId}: ${problem.message}`, assetId);
    const now = Math.max(this.now, this.start);
    let truth: TruthFault;
    try {
      truth = machine.addFault(fault as FaultConfig, now);
    } catch (err) {
      throw new SimConfigError('invalid_fault', `asset ${assetId}: ${(err as Error).message}`, assetId);
    }
    this.pending.push({ kind: 'fault', event: 'scheduled', ts: now, ...truth });
    return truth;
  }

  /** Readings per simulated second of the whole plant (every sensor on its grid, none lost). */
  readingRate(): number {
    return this.machines.reduce((sum, m) => sum + m.readingRate(), 0);
  }

  /** Ground truth of every fault, with its current phase and severity. */
  truth(): TruthFault[] {
    return this.machines.flatMap((m) => m.truth());
  }

  /** The noise-free physical state of an asset (for tests, dashboards and teaching). */
  state(assetId: string): MachineState | undefined {
    return this.byId.get(assetId)?.snapshot();
  }

  /** Asset configurations with complete nameplates, as pdm-twin's fleet or `import` takes them. */
  fleet(): AssetConfig[] {
    return fleetOf(this.assets);
  }

  /** The machine of an asset (shapes read its units and latest values). */
  machine(assetId: string): Machine | undefined {
    return this.byId.get(assetId);
  }

  get size(): number {
    return this.machines.length;
  }
}
