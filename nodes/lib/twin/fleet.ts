/**
 * Many twins keyed by asset id: routing readings, rate-limiting snapshots and tracking which
 * twins changed since they were last persisted.
 */
import type { Reading } from '../contracts/reading';
import type { ResolvedAsset } from '../assets/types';
import { AssetTwin, DEFAULT_TWIN_OPTIONS, type IngestResult, type TwinEvent, type TwinOptions, type TwinState } from './asset-twin';
import { buildSnapshot, type TwinSnapshot } from './snapshot';

export interface FleetOptions extends TwinOptions {
  /** At most one snapshot per asset per this interval; changes in between are merged. */
  snapshotMinIntervalMs: number;
  /** Hard limit on the number of twins, so a flood of made-up ids cannot exhaust memory. */
  maxAssets: number;
  /**
   * Judge staleness and ages by reading time instead of the wall clock: for replays, simulators
   * with accelerated time and gateways whose clocks are off. Each twin runs on the newest reading
   * time of its own asset, so a source that lags neither looks stale itself nor makes the others
   * look stale. Snapshot rate limits stay on the wall clock, which is what a broker feels.
   */
  eventTime: boolean;
}

export const DEFAULT_FLEET_OPTIONS: FleetOptions = { ...DEFAULT_TWIN_OPTIONS, snapshotMinIntervalMs: 1000, maxAssets: 50_000, eventTime: false };

export type AssetResolver = (assetId: string) => ResolvedAsset | undefined;

export interface FleetUpdate {
  twin: AssetTwin;
  result: IngestResult;
  /** A snapshot to send now (changed and not rate-limited). */
  snapshot?: TwinSnapshot;
}

export type IngestOutcome = FleetUpdate | { error: 'unknown_asset' | 'fleet_full'; assetId: string };

export class TwinFleet {
  private readonly twins = new Map<string, AssetTwin>();
  private readonly lastSnapshotAt = new Map<string, number>();
  private readonly snapshotPending = new Set<string>();
  private readonly dirty = new Set<string>();
  private options: FleetOptions;

  constructor(
    private resolve: AssetResolver,
    options: Partial<FleetOptions> = {},
  ) {
    this.options = { ...DEFAULT_FLEET_OPTIONS, ...options };
  }

  get size(): number {
    return this.twins.size;
  }

  get(assetId: string): AssetTwin | undefined {
    return this.twins.get(assetId);
  }

  ids(): string[] {
    return [...this.twins.keys()];
  }

  /** Finds or creates the twin of an asset; undefined when the asset is unknown or the fleet is full. */
  twinFor(assetId: string): AssetTwin | { error: 'unknown_asset' | 'fleet_full' } {
    const existing = this.twins.get(assetId);
    if (existing) return existing;
    const asset = this.resolve(assetId);
    if (!asset) return { error: 'unknown_asset' };
    if (this.twins.size >= this.options.maxAssets) return { error: 'fleet_full' };
    const twin = new AssetTwin(asset, this.options);
    this.twins.set(assetId, twin);
    return twin;
  }

  ingest(reading: Reading, now: number): IngestOutcome {
    const { updates, errors } = this.ingestAll([reading], now);
    return updates[0] ?? { error: errors[0].error, assetId: reading.assetId };
  }

  /**
   * Ingests all readings of one message first, then builds at most one snapshot per twin, so a
   * snapshot never shows half a message (e.g. the new current but the old temperature).
   */
  ingestAll(readings: Reading[], now: number): { updates: FleetUpdate[]; errors: Array<{ index: number; error: 'unknown_asset' | 'fleet_full'; assetId: string }> } {
    const merged = new Map<AssetTwin, IngestResult>();
    const errors: Array<{ index: number; error: 'unknown_asset' | 'fleet_full'; assetId: string }> = [];
    readings.forEach((reading, index) => {
      const twin = this.twinFor(reading.assetId);
      if ('error' in twin) {
        errors.push({ index, error: twin.error, assetId: reading.assetId });
        return;
      }
      const result = twin.ingest(reading);
      this.dirty.add(twin.id);
      const sum = merged.get(twin);
      if (!sum) merged.set(twin, result);
      else {
        sum.transitions.push(...result.transitions);
        sum.windows.push(...result.windows);
        sum.changed ||= result.changed;
      }
    });
    const updates = [...merged].map(([twin, result]) => this.updateFor(twin, result, now));
    return { updates, errors };
  }

  /** Advances time for every twin; returns the twins that changed or owe a snapshot. */
  tick(now: number): FleetUpdate[] {
    const updates: FleetUpdate[] = [];
    for (const twin of this.twins.values()) {
      const clock = this.clockOf(twin, now);
      if (clock <= 0) continue;
      const result = twin.tick(clock);
      if (result.changed || result.windows.length > 0) this.dirty.add(twin.id);
      if (result.changed || result.windows.length > 0 || this.snapshotPending.has(twin.id)) {
        updates.push(this.updateFor(twin, result, now));
      }
    }
    return updates;
  }

  record(assetId: string, event: TwinEvent, now: number): FleetUpdate | { error: 'unknown_asset' | 'fleet_full'; assetId: string } {
    const twin = this.twinFor(assetId);
    if ('error' in twin) return { error: twin.error, assetId };
    twin.record(event);
    if (event.kind === 'maintenance' && event.type === 'part_replaced') twin.rebaseline(event.ts);
    this.dirty.add(assetId);
    return this.updateFor(twin, { transitions: [], windows: [], changed: true }, now, true);
  }

  /** Builds a snapshot now regardless of rate limits (queries). */
  snapshot(assetId: string, now: number): TwinSnapshot | undefined {
    const twin = this.twins.get(assetId);
    if (!twin) return undefined;
    this.lastSnapshotAt.set(assetId, now);
    this.snapshotPending.delete(assetId);
    return buildSnapshot(twin, this.clockOf(twin, now));
  }

  /** The time a twin's staleness and ages are judged by: the wall clock, or its own newest reading time. */
  private clockOf(twin: AssetTwin, now: number): number {
    return this.options.eventTime ? twin.eventClock : now;
  }

  remove(assetId: string): boolean {
    this.lastSnapshotAt.delete(assetId);
    this.snapshotPending.delete(assetId);
    this.dirty.add(assetId);
    return this.twins.delete(assetId);
  }

  clear(): void {
    for (const id of this.twins.keys()) this.dirty.add(id);
    this.twins.clear();
    this.lastSnapshotAt.clear();
    this.snapshotPending.clear();
  }

  /** Re-resolves every twin's configuration (after the asset registry changed). */
  reconfigure(resolve: AssetResolver, options: Partial<FleetOptions> = {}): void {
    this.resolve = resolve;
    this.options = { ...this.options, ...options };
    for (const twin of this.twins.values()) {
      const asset = resolve(twin.id);
      if (asset) twin.reconfigure(asset, this.options);
    }
  }

  /** Asset ids changed since the last call, for persistence. */
  takeDirty(): string[] {
    const ids = [...this.dirty];
    this.dirty.clear();
    return ids;
  }

  /** Restores a persisted twin; false when the asset is unknown now or the state is unreadable. */
  restore(state: TwinState): boolean {
    const twin = this.twinFor(state.id);
    if ('error' in twin) return false;
    const ok = twin.restore(state);
    if (!ok) this.twins.delete(state.id);
    return ok;
  }

  private updateFor(twin: AssetTwin, result: IngestResult, now: number, force = false): FleetUpdate {
    const update: FleetUpdate = { twin, result };
    if (!result.changed && !force && !this.snapshotPending.has(twin.id)) return update;
    const last = this.lastSnapshotAt.get(twin.id);
    if (force || last === undefined || now - last >= this.options.snapshotMinIntervalMs) {
      update.snapshot = this.snapshot(twin.id, now);
    } else {
      this.snapshotPending.add(twin.id);
    }
    return update;
  }
}
