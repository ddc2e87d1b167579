/**
 * How simulated time follows the wall clock, for the node's ticks.
 *
 * - `accelerated`: simulated = anchor + factor × (wall − wall anchor). Re-anchored on every
 *   resume, so a paused simulation continues where it stopped.
 * - `step`: every tick advances exactly `stepSec` simulated seconds, whatever the wall clock does
 *   (deterministic flows and tests).
 *
 * With `hold`, simulated time never passes the wall clock: a simulation that starts in the past
 * runs accelerated until it catches up with now, then continues in real time.
 */
export type ClockMode = 'accelerated' | 'step';

export interface ClockOptions {
  mode: ClockMode;
  /** Simulated seconds per wall-clock second (accelerated). */
  factor: number;
  /** Simulated seconds per tick (step). */
  stepSec: number;
  hold: boolean;
}

export class SimClock {
  private wallAnchor = 0;
  private simAnchor = 0;

  constructor(readonly options: ClockOptions) {}

  /** Anchors the clock: simulated time `sim` corresponds to wall time `wall`. */
  resume(wall: number, sim: number): void {
    this.wallAnchor = wall;
    this.simAnchor = sim;
  }

  /** The simulated time a tick at wall time `wall` should advance to (never backwards). */
  target(wall: number, simNow: number): number {
    const o = this.options;
    let t = o.mode === 'step' ? simNow + o.stepSec * 1000 : this.simAnchor + o.factor * (wall - this.wallAnchor);
    if (o.hold) t = Math.min(t, wall);
    return Math.max(simNow, Math.floor(t));
  }
}
