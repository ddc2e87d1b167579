/**
 * Alert tiers in the replay: the pipeline's scores go through the same AlertEngine as the
 * pdm-alert node (nodes/lib/alert), one row at a time in event time, so the `tier` column shows
 * what the node would have annunciated at that row — nothing learnt from later rows.
 *
 * Per row, in time order:
 *  1. the twin's limit levels (warning / action limits of the asset class) go in as a snapshot
 *     when they change, with the twin's operating state — the business rules of the action tier;
 *  2. the row's score goes in with `ingestScore(score, ts)` (its state is the twin's operating
 *     state, so off / startup / shutdown suppress alerts by design, as in the node);
 *  3. `tick(ts)` lets time-driven rules (off-delays, flood end) complete;
 *  4. the row's tier is the highest tier among the open episodes that are active and annunciated
 *     (not suppressed, shelved or grouped into a flood); empty when there is none.
 *
 * The tier rules are the asset class's defaults (nodes/lib/alert/config.ts) unchanged; the
 * replay has no operator, so nothing is ever acknowledged, shelved or labelled.
 */
import { AlertEngine } from '../alert/engine';
import type { DeepPartial, EngineConfig } from '../alert/config';
import type { AnomalyScore, SnapshotFeature } from '../alert/inputs';
import { tierRank, type Tier } from '../contracts/alert-event';
import type { Score } from '../anomaly/types';

export interface ReplayAlertOptions {
  assetId: string;
  assetClass: string;
  /** Engine settings on top of the defaults (tests; the replay itself passes none). */
  engine?: DeepPartial<EngineConfig>;
}

export interface ReplayAlertSummary {
  /** Lifecycle events the engine emitted, by transition. */
  transitions: Record<string, number>;
  /** Activations (raised or reactivated), and how many of them reached each tier at their peak. */
  activations: number;
  peak: Record<Tier, number>;
}

/** Where one activation stands: its episode and the highest tier it reached while active. */
interface Activation {
  peak: Tier;
}

export class ReplayAlerts {
  readonly engine: AlertEngine;
  private readonly assetId: string;
  private readonly assetClass: string;
  private limitsKey = '';
  private readonly active = new Map<string, Activation>();
  readonly summary: ReplayAlertSummary = { transitions: {}, activations: 0, peak: { watch: 0, warning: 0, action: 0 } };

  constructor(options: ReplayAlertOptions) {
    this.assetId = options.assetId;
    this.assetClass = options.assetClass;
    const resolver = (id: string) => (id === this.assetId ? { path: {}, assetClass: this.assetClass } : undefined);
    this.engine = new AlertEngine(options.engine ?? {}, resolver);
  }

  /**
   * One replayed row: `limits` are the twin's limit levels after the row (only changes are sent),
   * `state` its operating state. Returns the row's tier, or null.
   */
  row(score: Score, ts: number, state: string, limits?: ReadonlyMap<string, 'warning' | 'action' | 'normal'>): Tier | null {
    if (limits && limits.size > 0) {
      const entries = [...limits].sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const key = entries.map(([s, l]) => `${s}=${l}`).join(',');
      if (key !== this.limitsKey) {
        this.limitsKey = key;
        const features: Record<string, SnapshotFeature> = {};
        for (const [signal, level] of entries) features[signal] = { limit: level, ts };
        this.note(this.engine.ingestSnapshot({ assetId: this.assetId, assetClass: this.assetClass, state, features, updatedAt: ts }, ts));
      }
    }
    this.note(this.engine.ingestScore(score as unknown as AnomalyScore, ts));
    this.noteOutput(this.engine.tick(ts));
    return this.tier();
  }

  /** Highest tier among the active, annunciated open episodes. */
  tier(): Tier | null {
    let best: Tier | null = null;
    for (const { episode, state } of this.engine.openEpisodes()) {
      if (!episode.active || episode.tier === null) continue;
      if (state !== 'active_unacknowledged' && state !== 'active_acknowledged') continue;
      if (tierRank(episode.tier) > tierRank(best)) best = episode.tier;
    }
    return best;
  }

  private note(outcome: ReturnType<AlertEngine['ingestScore']>): void {
    if (!outcome.ok) throw new Error(`alert engine refused asset ${outcome.assetId}: ${outcome.code}`);
    this.noteOutput(outcome.output);
  }

  private noteOutput(output: { events: Array<{ episodeId: string; transition: string; tier: Tier | null }> }): void {
    const s = this.summary;
    for (const e of output.events) {
      s.transitions[e.transition] = (s.transitions[e.transition] ?? 0) + 1;
      if (e.transition === 'raised' || e.transition === 'reactivated') {
        s.activations++;
        this.active.set(e.episodeId, { peak: e.tier ?? 'watch' });
        s.peak[e.tier ?? 'watch']++;
      } else if (e.tier !== null) {
        const a = this.active.get(e.episodeId);
        if (a && tierRank(e.tier) > tierRank(a.peak)) {
          s.peak[a.peak]--;
          a.peak = e.tier;
          s.peak[a.peak]++;
        }
      }
      if (e.transition === 'cleared' || e.transition === 'reset') this.active.delete(e.episodeId);
    }
  }
}
