/**
 * The alert engine: scores, twin snapshots, twin events, zone readings and operator commands in;
 * alert events (every lifecycle transition), the latest alert per asset, flood events, KPI
 * reports and feedback labels for the twin out. Pure TypeScript, no Node-RED and no wall clock:
 * every call carries `now`, and evidence carries its own event time, so a replay drives the same
 * code with recorded time.
 *
 * Per asset, one alarm point per failure mode (plus `no_data` and `sensor_fault`), each with a
 * condition tracker (condition.ts) and at most one open episode, with the ISA-18.2 lifecycle:
 *
 *   normal → active_unacknowledged → (ack) active_acknowledged → (clear) normal
 *   active_unacknowledged → (clear) returned_unacknowledged, or latched → (ack) normal
 *   returned_unacknowledged / latched → (active again) active_unacknowledged, same episode
 *
 * Orthogonal to that: shelved (timed / one-shot, per point), suppressed by design (operating
 * state, planned maintenance, post-startup mask; or grouped into a flood), out of service (asset
 * or point). Suppression and out-of-service freeze evaluation; shelving does not.
 */
import {
  PRIORITY_OF,
  tierRank,
  type AlarmState,
  type AlertCategory,
  type AlertEvent,
  type AlertLabel,
  type AlertSummary,
  type AssetAlertStatus,
  type EpisodeBrief,
  type Evidence,
  type FloodEvent,
  type KpiReport,
  type LabelType,
  type RuleEvidence,
  type Tier,
  type Transition,
} from '../contracts/alert-event';
import { ASSET_CLASSES, isAssetClassId } from '../assets/classes';
import type { FailureMode } from '../assets/types';
import { OPERATING_STATES } from '../twin/operating-state';
import { engineConfig, resolveTierConfig, type DeepPartial, type EngineConfig, type FloodSuppress, type TierConfig } from './config';
import {
  hitCount,
  newTracker,
  observe,
  resetTiming,
  round,
  slopePerHour,
  tick as tickTracker,
  type Decision,
  type ModelObservation,
  type RuleLevel,
} from './condition';
import { baseSignal, checkFor, chooseMode, modeById, NO_DATA, SENSOR_FAULT, type ModeRef } from './failure-modes';
import { checkEnd, recordActivation } from './flood';
import { recordAnnunciation, recordChatter, report, newPeriod, type StandingInfo } from './kpi';
import type { AnomalyScore, SnapshotInput, TwinEventInput, ZoneInput } from './inputs';
import {
  newAssetState,
  newSiteState,
  own,
  restoreAssetState,
  restoreSiteState,
  type AssetAlertState,
  type AssetInfoState,
  type Episode,
  type Point,
  type SiteAlertState,
  type StoredScore,
} from './state';

/** What the engine needs to know about an asset it did not learn from a snapshot. */
export interface AssetInfo {
  name?: string;
  path: { site?: string; area?: string; line?: string };
  assetClass: string;
  failureModes?: readonly FailureMode[];
}
export type AssetInfoResolver = (assetId: string) => AssetInfo | undefined;

/** A label for pdm-twin: wire output to a pdm-twin input (it records `{kind: 'label'}` events). */
export interface TwinLabelCommand {
  command: 'event';
  assetId: string;
  payload: { kind: 'label'; type: LabelType; ts: number; episodeId: string; reason?: string; signal?: string; by?: string; note?: string };
}

export interface EngineOutput {
  events: AlertEvent[];
  floods: FloodEvent[];
  /** Latest alert of each asset whose alert changed. */
  summaries: AlertSummary[];
  twin: TwinLabelCommand[];
  kpis: KpiReport[];
}

export type IngestOutcome = { ok: true; output: EngineOutput } | { ok: false; code: 'too_many_assets'; assetId: string };

export const COMMANDS = [
  'acknowledge',
  'shelve',
  'unshelve',
  'out_of_service',
  'return_to_service',
  'label',
  'maintenance',
  'get',
  'list',
  'kpi',
  'reset',
] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface AlertCommand {
  command: string;
  assetId?: string;
  episodeId?: string;
  /** Failure mode id (alarm point) within the asset. */
  mode?: string;
  by?: string;
  note?: string;
  reason?: string;
  /** shelve / maintenance: duration. */
  forMs?: number;
  /** shelve: one-shot. */
  once?: boolean;
  /** maintenance: end time; or `end: true` to end it now. */
  until?: number;
  from?: number;
  end?: boolean;
  /** label: true_fault | false_alarm. */
  label?: string;
  site?: string;
}

export type CommandOutcome =
  | { ok: true; output: EngineOutput; reply: unknown; assetId?: string; replyKind: 'alert' | 'list' | 'kpi' | 'reset' }
  | { ok: false; code: string; params: Record<string, string> };

const ANNUNCIATED: ReadonlySet<AlarmState> = new Set(['active_unacknowledged', 'active_acknowledged', 'returned_unacknowledged', 'latched']);
const UNSET_SITE = '_';
const SAFE_KEY = /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/;

interface Ctx {
  out: EngineOutput;
  touched: Set<string>;
  now: number;
}

interface Finding {
  mode: ModeRef;
  alternatives: ModeRef[];
  rules: RuleEvidence[];
}

export class AlertEngine {
  readonly config: EngineConfig;
  private resolver: AssetInfoResolver | undefined;
  private readonly assets = new Map<string, AssetAlertState>();
  private readonly sites = new Map<string, SiteAlertState>();
  /** Episode id → asset id, for open episodes and the closed ones still in history. */
  private readonly episodeIndex = new Map<string, string>();
  private readonly dirtyAssets = new Set<string>();
  private readonly dirtySites = new Set<string>();
  private readonly removedAssets = new Set<string>();
  private readonly tierCache = new Map<string, TierConfig>();
  private readonly modeCache = new Map<string, readonly FailureMode[]>();
  /** Newest event time of any asset: the sites' clock in reading-time mode. */
  private latestEventTime = 0;

  constructor(config: DeepPartial<EngineConfig> = {}, resolver?: AssetInfoResolver) {
    this.config = engineConfig(config);
    this.resolver = resolver;
  }

  // ---- clocks ---------------------------------------------------------------------------

  private get readingTime(): boolean {
    return this.config.clock === 'reading';
  }

  /** The time sites, floods and KPIs run on: the wall clock passed in, or the newest event time. */
  private siteTime(now: number): number {
    return this.readingTime ? this.latestEventTime : now;
  }

  /** An asset's time: never behind the wall clock (wall), or its own event time only (reading). */
  private assetTime(a: AssetAlertState, now: number): number {
    return this.readingTime ? a.clock || this.latestEventTime : Math.max(a.clock, now);
  }

  /** When a command or a timer acts on an asset: the wall clock (wall), or the asset's event time (reading). */
  private actionTime(a: AssetAlertState, now: number): number {
    return this.readingTime ? a.clock || this.latestEventTime : now;
  }

  /** An input's event time moves the sites' clock before anything is evaluated (reading time). */
  private noteEventTime(ts: number): void {
    if (Number.isFinite(ts) && ts > this.latestEventTime) this.latestEventTime = ts;
  }

  // ---- identity -------------------------------------------------------------------------

  /** New asset definitions (pdm-asset changed): re-resolve every known asset. */
  setResolver(resolver: AssetInfoResolver | undefined): void {
    this.resolver = resolver;
    this.tierCache.clear();
    this.modeCache.clear();
    for (const a of this.assets.values()) {
      const info = this.resolve(a.id, a.info);
      if (JSON.stringify(info) !== JSON.stringify(a.info)) {
        a.info = info;
        this.dirtyAssets.add(a.id);
      }
    }
  }

  get size(): number {
    return this.assets.size;
  }

  ids(): string[] {
    return [...this.assets.keys()];
  }

  siteIds(): string[] {
    return [...this.sites.keys()];
  }

  private resolve(id: string, current?: AssetInfoState, hint?: SnapshotInput): AssetInfoState {
    const declared = this.resolver?.(id);
    if (declared) {
      const info: AssetInfoState = { path: cleanPath(declared.path), assetClass: declared.assetClass, source: 'directory' };
      if (declared.name) info.name = declared.name;
      if (declared.failureModes) this.modeCache.set(id, declared.failureModes);
      else this.modeCache.delete(id);
      return info;
    }
    this.modeCache.delete(id);
    if (hint && (hint.assetClass !== undefined || hint.path !== undefined)) {
      const info: AssetInfoState = {
        path: cleanPath(hint.path ?? current?.path ?? {}),
        assetClass: hint.assetClass && isAssetClassId(hint.assetClass) ? hint.assetClass : (current?.assetClass ?? this.config.defaultClass),
        source: 'snapshot',
      };
      const name = hint.name ?? current?.name;
      if (name) info.name = name;
      return info;
    }
    if (current && current.source !== 'directory') return current;
    return { path: {}, assetClass: this.config.defaultClass, source: 'default' };
  }

  private ensureAsset(id: string, now: number, hint?: SnapshotInput): AssetAlertState | undefined {
    let a = this.assets.get(id);
    if (!a) {
      if (this.assets.size >= this.config.maxAssets) return undefined;
      a = newAssetState(id, this.resolve(id, undefined, hint));
      this.assets.set(id, a);
      this.dirtyAssets.add(id);
      this.removedAssets.delete(id);
      this.ensureSite(this.siteOf(a), now);
    } else if (hint && a.info.source !== 'directory') {
      const info = this.resolve(id, a.info, hint);
      if (JSON.stringify(info) !== JSON.stringify(a.info)) {
        const oldClass = a.info.assetClass;
        a.info = info;
        if (oldClass !== info.assetClass) this.tierCache.delete(id);
        this.dirtyAssets.add(id);
        this.ensureSite(this.siteOf(a), now);
      }
    }
    return a;
  }

  private siteOf(a: AssetAlertState): string {
    return a.info.path.site || UNSET_SITE;
  }

  private ensureSite(site: string, now: number): SiteAlertState {
    let s = this.sites.get(site);
    if (!s) {
      s = newSiteState(site, now);
      this.sites.set(site, s);
      this.dirtySites.add(site);
    }
    return s;
  }

  private modesOf(a: AssetAlertState): readonly FailureMode[] {
    const declared = this.modeCache.get(a.id);
    if (declared) return declared;
    return isAssetClassId(a.info.assetClass) ? ASSET_CLASSES[a.info.assetClass].failureModes : [];
  }

  /** The tier rules that apply to an asset (class defaults, node settings, overrides). */
  tierConfig(a: Pick<AssetAlertState, 'id' | 'info'>): TierConfig {
    const key = this.config.overrides.assets && own(this.config.overrides.assets, a.id) ? `${a.info.assetClass}\u0000${a.id}` : a.info.assetClass;
    let cfg = this.tierCache.get(key);
    if (!cfg) {
      cfg = resolveTierConfig(this.config, a.info.assetClass, a.id);
      this.tierCache.set(key, cfg);
    }
    return cfg;
  }

  // ---- inputs ---------------------------------------------------------------------------

  ingestScore(score: AnomalyScore, wallNow: number): IngestOutcome {
    this.noteEventTime(score.window.end);
    const now = this.siteTime(wallNow);
    const ctx = this.ctx(now);
    const a = this.ensureAsset(score.assetId, now);
    if (!a) return { ok: false, code: 'too_many_assets', assetId: score.assetId };
    const at = score.window.end;
    this.noteOpState(a, score.state, at);
    const usable = score.status === 'ready' && !score.masked;
    if (usable) {
      const contributions: Record<string, number> = {};
      for (const [k, v] of Object.entries(score.contributions)) if (SAFE_KEY.test(k) && Number.isFinite(v)) contributions[k] = round(v);
      a.evidence.score = {
        value: score.score,
        threshold: score.threshold,
        anomalous: score.anomalous,
        window: { start: score.window.start, end: score.window.end },
        state: score.state,
        model: score.model ? { id: String(score.model.id), version: Number(score.model.version) } : null,
        topSignal: score.topSignal !== null && SAFE_KEY.test(score.topSignal) ? score.topSignal : null,
        contributions,
      };
    }
    this.dirtyAssets.add(a.id);
    this.evaluate(a, at, usable, ctx);
    return { ok: true, output: this.finish(ctx) };
  }

  ingestSnapshot(snap: SnapshotInput, wallNow: number): IngestOutcome {
    this.noteEventTime(snap.updatedAt ?? wallNow);
    const now = this.siteTime(wallNow);
    const ctx = this.ctx(now);
    const a = this.ensureAsset(snap.assetId, now, snap);
    if (!a) return { ok: false, code: 'too_many_assets', assetId: snap.assetId };
    const at = snap.updatedAt ?? now;
    this.noteOpState(a, snap.state, at, snap.since);
    const limits: AssetAlertState['evidence']['limits'] = {};
    const stale: string[] = [];
    const bad: string[] = [];
    for (const [signal, f] of Object.entries(snap.features)) {
      if (!SAFE_KEY.test(signal)) continue;
      if (f.stale) stale.push(signal);
      if (f.quality === 'bad') bad.push(signal);
      if (f.limit) limits[signal] = { level: f.limit, ts: f.ts ?? at, ...(f.limitSide === 'low' ? { side: 'low' as const } : {}), ...(f.value !== undefined ? { value: f.value } : {}) };
    }
    a.evidence.limits = limits;
    a.evidence.stale = stale.sort();
    a.evidence.bad = bad.sort();
    this.dirtyAssets.add(a.id);
    this.evaluate(a, at, false, ctx);
    return { ok: true, output: this.finish(ctx) };
  }

  ingestZone(z: ZoneInput, wallNow: number): IngestOutcome {
    this.noteEventTime(z.ts);
    const now = this.siteTime(wallNow);
    const ctx = this.ctx(now);
    const a = this.ensureAsset(z.assetId, now);
    if (!a) return { ok: false, code: 'too_many_assets', assetId: z.assetId };
    if (SAFE_KEY.test(z.signal)) {
      const previous = own(a.evidence.zones, z.signal);
      if (!previous || z.ts >= previous.ts) {
        a.evidence.zones[z.signal] = {
          zone: z.zone,
          value: z.value,
          ts: z.ts,
          ...(z.preset !== undefined ? { preset: z.preset } : {}),
          ...(z.standard !== undefined ? { standard: z.standard } : {}),
          ...(z.limits !== undefined ? { limits: z.limits } : {}),
        };
      }
    }
    this.dirtyAssets.add(a.id);
    this.evaluate(a, z.ts, false, ctx);
    return { ok: true, output: this.finish(ctx) };
  }

  ingestTwinEvent(e: TwinEventInput, wallNow: number): IngestOutcome {
    this.noteEventTime(e.ts);
    const now = this.siteTime(wallNow);
    const ctx = this.ctx(now);
    const a = this.ensureAsset(e.assetId, now);
    if (!a) return { ok: false, code: 'too_many_assets', assetId: e.assetId };
    if (e.kind === 'state') {
      this.noteOpState(a, e.to, e.ts, e.ts);
      this.evaluate(a, e.ts, false, ctx);
    } else if (e.kind === 'maintenance') {
      a.lastMaintenance = Math.max(a.lastMaintenance ?? 0, e.ts);
    } else {
      // A label recorded by the twin (e.g. a CMMS outcome): attach it, never send it back.
      const ep = e.episodeId ? this.findEpisode(e.episodeId)?.episode : this.latestEpisode(a);
      if (ep && this.findEpisode(ep.id)?.asset === a) {
        const label: AlertLabel = { type: e.type, ts: e.ts };
        if (e.reason) label.reason = e.reason;
        if (e.by) label.by = e.by;
        if (e.note) label.note = e.note;
        if (!(ep.label && ep.label.type === label.type && ep.label.reason === label.reason)) this.applyLabel(a, ep, label, false, ctx);
      }
    }
    this.dirtyAssets.add(a.id);
    return { ok: true, output: this.finish(ctx) };
  }

  /** Time passes: shelving expiry, maintenance windows, on/off-delays, data-health escalation, flood end, KPI reports. */
  tick(wallNow: number): EngineOutput {
    const now = this.siteTime(wallNow);
    const ctx = this.ctx(now);
    for (const a of this.assets.values()) {
      const pointIds = Object.keys(a.points);
      if (pointIds.length === 0 && !a.maintenance && !a.suppression) continue;
      const t = this.assetTime(a, now);
      const acting = this.actionTime(a, now);
      a.clock = t;
      this.updateSuppression(a, t, ctx);
      for (const id of pointIds) {
        const p = a.points[id];
        if (p.shelving?.kind === 'timed' && (p.shelving.until ?? 0) <= acting) {
          p.shelving = null;
          this.dirtyAssets.add(a.id);
          if (p.episode) this.emit(a, p, p.episode, 'unshelved', t, ctx, { code: 'expired', reason: 'timed shelving expired', prevTier: p.episode.tier });
          else ctx.touched.add(a.id);
        }
      }
      if (a.suppression || a.outOfService) continue;
      for (const id of pointIds) {
        const p = a.points[id];
        if (!p || p.outOfService) continue;
        const d = tickTracker(p.tracker, t, this.pointConfig(a, p));
        if (d) {
          this.dirtyAssets.add(a.id);
          const previous = p.episode?.evidence ?? {};
          const evidence: Evidence = { ...previous, persistence: { activeForMs: p.tracker.activeSince !== null ? Math.max(0, t - p.tracker.activeSince) : 0, hits: hitCount(p.tracker, this.pointConfig(a, p)), of: p.tracker.hits.length } };
          this.applyDecision(a, p, d, t, evidence, ctx);
        }
      }
      this.prunePoints(a);
    }
    for (const s of this.sites.values()) {
      const ended = checkEnd(s.flood, s.site, now, this.config.flood);
      if (ended) this.endFlood(s, ended, ctx);
      // Every site reports after each interval boundary (aligned to the epoch, e.g. on the hour).
      if (Math.floor(now / this.config.kpiIntervalMs) > Math.floor(s.period.start / this.config.kpiIntervalMs)) {
        ctx.out.kpis.push(this.kpiReport(s, now));
        s.period = newPeriod(now);
        this.dirtySites.add(s.site);
        // A site left without assets (they moved to their real site) is dropped once it has reported.
        if (!s.flood.flood && ![...this.assets.values()].some((a) => this.siteOf(a) === s.site)) this.sites.delete(s.site);
      }
    }
    return this.finish(ctx);
  }

  // ---- commands -------------------------------------------------------------------------

  command(cmd: AlertCommand, wallNow: number): CommandOutcome {
    const now = this.siteTime(wallNow);
    const ctx = this.ctx(now);
    const fail = (code: string, params: Record<string, string> = {}): CommandOutcome => ({ ok: false, code, params });
    const name = cmd.command as CommandName;
    if (!(COMMANDS as readonly string[]).includes(name)) return fail('unknown_command', { command: String(cmd.command) });

    if (name === 'list') {
      const site = cmd.site;
      const rows = [];
      for (const a of this.assets.values()) {
        if (site !== undefined && this.siteOf(a) !== site) continue;
        for (const p of Object.values(a.points)) if (p.episode) rows.push({ assetId: a.id, site: this.siteOf(a), ...this.brief(a, p, p.episode) });
      }
      return { ok: true, output: this.finish(ctx), reply: rows, replyKind: 'list' };
    }
    if (name === 'kpi') {
      const reports = [...this.sites.values()].filter((s) => cmd.site === undefined || s.site === cmd.site).map((s) => this.kpiReport(s, now));
      return { ok: true, output: this.finish(ctx), reply: reports, replyKind: 'kpi' };
    }
    if (name === 'reset') {
      if (cmd.assetId !== undefined && !this.assets.has(cmd.assetId)) return fail('unknown_asset', { assetId: cmd.assetId });
      const ids = cmd.assetId !== undefined ? [cmd.assetId] : [...this.assets.keys()];
      for (const id of ids) {
        const a = this.assets.get(id)!;
        const t = this.assetTime(a, now);
        for (const p of Object.values(a.points)) {
          if (!p.episode) continue;
          const ep = p.episode;
          const prevTier = ep.tier;
          ep.active = false;
          ep.tier = null;
          this.emit(a, p, ep, 'reset', t, ctx, { code: 'reset', reason: 'alert state reset by command', closed: true, prevTier, by: cmd.by });
        }
        for (const ep of [...Object.values(a.points).map((p) => p.episode), ...a.history]) if (ep) this.episodeIndex.delete(ep.id);
        this.assets.delete(id);
        this.dirtyAssets.delete(id);
        this.removedAssets.add(id);
        ctx.touched.delete(id);
      }
      if (cmd.assetId === undefined) {
        for (const s of this.sites.keys()) this.dirtySites.add(s);
        this.sites.clear();
      }
      return { ok: true, output: this.finish(ctx), reply: { reset: ids }, replyKind: 'reset' };
    }

    // Commands about one asset.
    let a: AssetAlertState | undefined;
    let targetEpisode: Episode | undefined;
    if (cmd.episodeId !== undefined) {
      const found = this.findEpisode(cmd.episodeId);
      if (!found) return fail('unknown_episode', { episodeId: cmd.episodeId });
      a = found.asset;
      targetEpisode = found.episode;
    } else if (cmd.assetId !== undefined) {
      a = this.assets.get(cmd.assetId);
      if (!a && (name === 'out_of_service' || name === 'maintenance')) {
        a = this.ensureAsset(cmd.assetId, now);
        if (!a) return fail('too_many_assets', { assetId: cmd.assetId });
      }
      if (!a) return fail('unknown_asset', { assetId: cmd.assetId });
    } else {
      return fail('no_target', { command: name });
    }
    const asset = a;
    const t = this.assetTime(asset, now);
    const acting = this.actionTime(asset, now);
    if (cmd.mode !== undefined && !targetEpisode && !own(asset.points, cmd.mode) && !modeById(this.modesOf(asset), cmd.mode)) {
      return fail('unknown_mode', { assetId: asset.id, mode: cmd.mode });
    }
    /** Points the command addresses: the episode's, the named mode's, or every point of the asset. */
    const points = (): Point[] => {
      if (targetEpisode) {
        const p = Object.values(asset.points).find((x) => x.episode === targetEpisode);
        return p ? [p] : [];
      }
      if (cmd.mode !== undefined) {
        const p = own(asset.points, cmd.mode);
        return p ? [p] : [];
      }
      return Object.values(asset.points);
    };
    const reply = (): CommandOutcome => {
      ctx.touched.add(asset.id);
      const output = this.finish(ctx);
      return { ok: true, output, reply: this.summary(asset), assetId: asset.id, replyKind: 'alert' };
    };

    switch (name) {
      case 'get':
        return { ok: true, output: this.finish(ctx), reply: this.summary(asset), assetId: asset.id, replyKind: 'alert' };

      case 'acknowledge': {
        const eps = points().filter((p) => p.episode && !p.episode.acked);
        if (eps.length === 0) return fail('nothing_to_acknowledge', { target: targetText(cmd) });
        for (const p of eps) {
          const ep = p.episode!;
          ep.acked = true;
          ep.ackedAt = acting;
          if (cmd.by) ep.ackedBy = cmd.by;
          const closing = !ep.active;
          this.emit(asset, p, ep, 'acknowledged', t, ctx, {
            code: 'command',
            reason: closing ? 'acknowledged after returning to normal' : 'acknowledged',
            closed: closing,
            prevTier: ep.tier,
            by: cmd.by,
            note: cmd.note,
          });
          if (closing) this.closeEpisode(asset, p, t);
        }
        this.prunePoints(asset);
        return reply();
      }

      case 'shelve': {
        const once = cmd.once === true;
        if (!once) {
          const forMs = cmd.forMs;
          if (typeof forMs !== 'number' || !Number.isFinite(forMs) || forMs <= 0 || forMs > this.config.maxShelveMs) {
            return fail('invalid_duration', { max: String(Math.round(this.config.maxShelveMs / 1000)) });
          }
        }
        const targets = points().filter((p) => p.episode && (!once || p.episode.active));
        if (targets.length === 0) return fail(once ? 'nothing_active' : 'no_open_episode', { target: targetText(cmd) });
        for (const p of targets) {
          p.shelving = { kind: once ? 'one_shot' : 'timed', since: acting, ...(once ? {} : { until: acting + (cmd.forMs as number) }) };
          if (cmd.by) p.shelving.by = cmd.by;
          if (cmd.reason) p.shelving.reason = cmd.reason;
          const ep = p.episode!;
          this.emit(asset, p, ep, 'shelved', t, ctx, {
            code: 'command',
            reason: once ? 'shelved until the alarm returns to normal (one-shot)' : `shelved for ${duration(cmd.forMs as number)}`,
            prevTier: ep.tier,
            by: cmd.by,
            note: cmd.note,
          });
        }
        this.dirtyAssets.add(asset.id);
        return reply();
      }

      case 'unshelve': {
        const targets = points().filter((p) => p.shelving);
        if (targets.length === 0) return fail('not_shelved', { target: targetText(cmd) });
        for (const p of targets) {
          p.shelving = null;
          if (p.episode) this.emit(asset, p, p.episode, 'unshelved', t, ctx, { code: 'command', reason: 'unshelved', prevTier: p.episode.tier, by: cmd.by, note: cmd.note });
        }
        this.dirtyAssets.add(asset.id);
        this.prunePoints(asset);
        return reply();
      }

      case 'out_of_service': {
        const oos = { since: acting, ...(cmd.by ? { by: cmd.by } : {}), ...(cmd.reason ? { reason: cmd.reason } : {}) };
        if (targetEpisode || cmd.mode !== undefined) {
          let p = points()[0];
          if (!p && cmd.mode !== undefined) p = this.createPoint(asset, modeById(this.modesOf(asset), cmd.mode)!, categoryOf(cmd.mode));
          if (!p) return fail('no_open_episode', { target: targetText(cmd) });
          const was = this.effectiveOos(asset, p);
          p.outOfService = oos;
          if (!was && p.episode) this.emit(asset, p, p.episode, 'out_of_service', t, ctx, { code: 'command', reason: 'taken out of service', prevTier: p.episode.tier, by: cmd.by, note: cmd.note ?? cmd.reason });
        } else {
          const wasOos = asset.outOfService !== null;
          asset.outOfService = oos;
          if (!wasOos) {
            for (const p of Object.values(asset.points)) {
              if (p.episode && !p.outOfService) this.emit(asset, p, p.episode, 'out_of_service', t, ctx, { code: 'command', reason: 'asset taken out of service', prevTier: p.episode.tier, by: cmd.by, note: cmd.note ?? cmd.reason });
            }
          }
        }
        this.dirtyAssets.add(asset.id);
        return reply();
      }

      case 'return_to_service': {
        if (targetEpisode || cmd.mode !== undefined) {
          const p = points()[0];
          if (!p || !p.outOfService) return fail('not_out_of_service', { target: targetText(cmd) });
          p.outOfService = null;
          resetTiming(p.tracker, t);
          if (p.episode && !asset.outOfService) this.emit(asset, p, p.episode, 'returned_to_service', t, ctx, { code: 'command', reason: 'returned to service', prevTier: p.episode.tier, by: cmd.by, note: cmd.note });
        } else {
          if (!asset.outOfService) return fail('not_out_of_service', { target: targetText(cmd) });
          asset.outOfService = null;
          // Evidence from before is not evidence of now: a new score must confirm the model's view.
          asset.evidence.score = null;
          for (const p of Object.values(asset.points)) {
            resetTiming(p.tracker, t);
            if (p.episode && !p.outOfService) this.emit(asset, p, p.episode, 'returned_to_service', t, ctx, { code: 'command', reason: 'asset returned to service', prevTier: p.episode.tier, by: cmd.by, note: cmd.note });
          }
        }
        this.dirtyAssets.add(asset.id);
        this.evaluate(asset, t, false, ctx);
        this.prunePoints(asset);
        return reply();
      }

      case 'label': {
        if (cmd.label !== 'true_fault' && cmd.label !== 'false_alarm') return fail('invalid_label', { label: String(cmd.label) });
        let ep = targetEpisode;
        if (!ep && cmd.mode !== undefined) ep = own(asset.points, cmd.mode)?.episode ?? [...asset.history].reverse().find((e) => e.mode.id === cmd.mode);
        if (!ep && cmd.mode === undefined) ep = this.latestEpisode(asset);
        if (!ep) return fail('unknown_episode', { episodeId: targetText(cmd) });
        const label: AlertLabel = { type: cmd.label, ts: acting };
        if (cmd.reason) label.reason = cmd.reason;
        if (cmd.by) label.by = cmd.by;
        if (cmd.note) label.note = cmd.note;
        this.applyLabel(asset, ep, label, true, ctx);
        return reply();
      }

      case 'maintenance': {
        if (cmd.end) {
          if (!asset.maintenance) return fail('no_maintenance', { assetId: asset.id });
          asset.maintenance = null;
        } else {
          const from = typeof cmd.from === 'number' && Number.isFinite(cmd.from) ? cmd.from : acting;
          const until =
            typeof cmd.until === 'number' && Number.isFinite(cmd.until)
              ? cmd.until
              : typeof cmd.forMs === 'number' && Number.isFinite(cmd.forMs) && cmd.forMs > 0
                ? from + cmd.forMs
                : NaN;
          if (!(until > from) || !(from >= 0) || until > 8.64e15) return fail('invalid_window', {});
          asset.maintenance = { from, until, ...(cmd.by ? { by: cmd.by } : {}), ...(cmd.note ? { note: cmd.note } : {}) };
        }
        this.dirtyAssets.add(asset.id);
        this.evaluate(asset, t, false, ctx);
        return reply();
      }
    }
    return fail('unknown_command', { command: String(cmd.command) });
  }

  // ---- evaluation -----------------------------------------------------------------------

  private ctx(now: number): Ctx {
    return { out: { events: [], floods: [], summaries: [], twin: [], kpis: [] }, touched: new Set(), now };
  }

  private noteOpState(a: AssetAlertState, state: string, at: number, since?: number): void {
    if (typeof state !== 'string' || at < a.opStateAt) return;
    a.opStateAt = at;
    if (state === a.opState) return;
    const previous = a.opState;
    a.opState = state;
    if (previous === 'startup' && state !== 'off' && state !== 'shutdown') a.startupEndedAt = since ?? at;
    this.dirtyAssets.add(a.id);
  }

  private suppressionAt(a: AssetAlertState, t: number): string | null {
    const m = a.maintenance;
    if (m && t >= m.from && t < m.until) return 'maintenance';
    if ((this.config.suppressStates as readonly string[]).includes(a.opState)) return a.opState;
    if (a.startupEndedAt !== null && a.tuning.startupMaskMs > 0 && a.opState !== 'unknown' && t < a.startupEndedAt + a.tuning.startupMaskMs) return 'startup_mask';
    return null;
  }

  private updateSuppression(a: AssetAlertState, t: number, ctx: Ctx): void {
    if (a.maintenance && t >= a.maintenance.until) {
      a.maintenance = null;
      this.dirtyAssets.add(a.id);
      ctx.touched.add(a.id);
    }
    const reason = this.suppressionAt(a, t);
    const before = a.suppression?.reason ?? null;
    if (reason === before) return;
    this.dirtyAssets.add(a.id);
    ctx.touched.add(a.id);
    if (reason && before) {
      a.suppression = { reason, since: a.suppression!.since };
      return;
    }
    if (reason) {
      a.suppression = { reason, since: t };
      for (const p of Object.values(a.points)) {
        if (p.episode && !this.effectiveOos(a, p)) this.emit(a, p, p.episode, 'suppressed', t, ctx, { code: reason, reason: suppressionText(reason), prevTier: p.episode.tier });
      }
      return;
    }
    a.suppression = null;
    // Evidence from before the suppression ended is not evidence of now.
    if (a.evidence.score && a.evidence.score.window.end < t) a.evidence.score = null;
    for (const p of Object.values(a.points)) {
      resetTiming(p.tracker, t);
      if (p.episode && !this.effectiveOos(a, p)) this.emit(a, p, p.episode, 'unsuppressed', t, ctx, { code: `${before}_ended`, reason: `${suppressionText(before!)} ended`, prevTier: p.episode.tier });
    }
  }

  private evaluate(a: AssetAlertState, at: number, scored: boolean, ctx: Ctx): void {
    const t = Math.max(a.clock, at);
    a.clock = t;
    this.noteEventTime(t);
    this.updateSuppression(a, t, ctx);
    if (a.suppression || a.outOfService) return;
    const cfg = this.tierConfig(a);
    const modes = this.modesOf(a);
    const points = a.points;
    const openModes = new Set(Object.values(points).filter((p) => p.category === 'condition' && (p.tracker.tier !== null || p.tracker.raw)).map((p) => p.mode));
    const modelHolders = new Set(Object.values(points).filter((p) => p.category === 'condition' && p.tracker.model).map((p) => p.mode));

    // The model's finding: one failure mode, sticky while it holds the condition.
    const sc = a.evidence.score;
    let modelMode: ModeRef | undefined;
    let modelAlternatives: ModeRef[] = [];
    let modelObs: ModelObservation | undefined;
    if (sc) {
      const threshold = this.thresholdFor(a, sc, cfg);
      const anomalous = threshold.fixed ? sc.value >= threshold.value : sc.anomalous;
      const weights = Object.keys(sc.contributions).length > 0 ? sc.contributions : sc.topSignal ? { [sc.topSignal]: 1 } : {};
      const choice = chooseMode(modes, weights, modelHolders.size > 0 ? modelHolders : openModes);
      modelMode = choice.mode;
      modelAlternatives = choice.alternatives;
      modelObs = { score: sc.value, threshold: threshold.value, anomalous };
    }
    const modelActive = !!modelObs && !!modelMode && (modelObs.anomalous || own(points, modelMode.id)?.tracker.model === true);

    // Business rules: limits (twin) and standard zones (retrofit), on signals with good, fresh data.
    const excluded = new Set([...a.evidence.stale, ...a.evidence.bad]);
    const bySignal = new Map<string, RuleEvidence[]>();
    for (const [signal, l] of Object.entries(a.evidence.limits)) {
      if (l.level === 'normal' || excluded.has(signal)) continue;
      const r: RuleEvidence = { signal, level: l.level, source: 'limit', ts: l.ts };
      if (l.side === 'low') r.side = 'low';
      if (l.value !== undefined) r.value = l.value;
      bySignal.set(signal, [...(bySignal.get(signal) ?? []), r]);
    }
    for (const [signal, z] of Object.entries(a.evidence.zones)) {
      if ((z.zone !== 'C' && z.zone !== 'D') || excluded.has(signal)) continue;
      const r: RuleEvidence = { signal, level: z.zone === 'D' ? 'action' : 'warning', source: 'zone', zone: z.zone, value: z.value, ts: z.ts };
      if (z.preset) r.preset = z.preset;
      if (z.standard) r.standard = z.standard;
      if (z.limits) r.limits = z.limits;
      bySignal.set(signal, [...(bySignal.get(signal) ?? []), r]);
    }
    const findings = new Map<string, Finding>();
    if (modelMode) findings.set(modelMode.id, { mode: modelMode, alternatives: modelAlternatives, rules: [] });
    for (const [signal, rules] of bySignal) {
      const base = baseSignal(signal);
      let mode: ModeRef;
      let alternatives: ModeRef[] = [];
      if (modelMode && modelActive && (modelMode.signals.includes(base) || (sc?.topSignal && baseSignal(sc.topSignal) === base))) {
        mode = modelMode;
      } else {
        const choice = chooseMode(modes, { [signal]: 1 }, openModes);
        mode = choice.mode;
        alternatives = choice.alternatives;
      }
      const f = findings.get(mode.id) ?? { mode, alternatives, rules: [] };
      f.rules.push(...rules);
      findings.set(mode.id, f);
    }

    // Every condition point sees the evidence (no finding = nothing holds for it).
    const ids = new Set([...Object.values(points).filter((p) => p.category === 'condition').map((p) => p.mode), ...findings.keys()]);
    for (const id of ids) {
      const f = findings.get(id);
      let p = own(points, id);
      if (!p) {
        if (!f || (f.rules.length === 0 && !(modelMode?.id === id && modelObs?.anomalous))) continue;
        p = this.createPoint(a, f.mode, 'condition');
      }
      if (p.outOfService) continue;
      const isModel = modelMode?.id === id;
      const model = modelObs ? (isModel ? modelObs : { score: -1, threshold: modelObs.threshold, anomalous: false }) : undefined;
      const rules = f?.rules ?? [];
      const rule: RuleLevel = rules.some((r) => r.level === 'action') ? 'action' : rules.length > 0 ? 'warning' : 'normal';
      const severe = rules.some((r) => r.level === 'action' && (r.source === 'zone' ? r.zone === 'D' : cfg.action.severeSignals.includes(baseSignal(r.signal))));
      const d = observe(p.tracker, { t, scored: scored && isModel, model, rule, severe }, cfg, this.config.trendPoints);
      const evidence = this.evidenceOf(p, t, cfg, isModel ? sc : null, model, rules, []);
      if (p.episode && p.episode.active) p.episode.evidence = evidence;
      if (f && p.episode) p.episode.alternatives = f.alternatives.map(({ id: i, name }) => ({ id: i, name }));
      if (d) this.applyDecision(a, p, d, t, evidence, ctx, f?.alternatives);
    }

    // No data and sensor fault: their own conditions.
    for (const [mode, signals] of [
      [NO_DATA, a.evidence.stale],
      [SENSOR_FAULT, a.evidence.bad],
    ] as const) {
      let p = own(points, mode.id);
      if (!p) {
        if (signals.length === 0) continue;
        p = this.createPoint(a, mode, mode.id as AlertCategory);
      }
      if (p.outOfService) continue;
      const dcfg = this.pointConfig(a, p);
      const d = observe(p.tracker, { t, scored: false, rule: signals.length > 0 ? 'warning' : 'normal', severe: false }, dcfg, this.config.trendPoints);
      const evidence = this.evidenceOf(p, t, dcfg, null, undefined, [], [...signals]);
      if (p.episode && p.episode.active && signals.length > 0) p.episode.evidence = evidence;
      if (d) this.applyDecision(a, p, d, t, evidence, ctx);
    }
    this.prunePoints(a);
  }

  private thresholdFor(a: AssetAlertState, sc: StoredScore, cfg: TierConfig): { value: number; fixed: boolean } {
    const offset = (OPERATING_STATES as readonly string[]).includes(sc.state) ? (own(a.tuning.thresholdOffset, sc.state) ?? 0) : 0;
    const base = cfg.watch.scoreAbove ?? sc.threshold;
    if (offset === 0 && cfg.watch.scoreAbove === null) return { value: sc.threshold, fixed: false };
    return { value: round(Math.min(Math.max(base, this.config.feedback.maxThreshold), base + offset)), fixed: true };
  }

  /** Tier rules of a point: the asset's, or the data-health variant for no_data / sensor_fault. */
  private pointConfig(a: AssetAlertState, p: Point): TierConfig {
    const cfg = this.tierConfig(a);
    if (p.category === 'condition') return cfg;
    return {
      ...cfg,
      warning: { onDelayMs: cfg.dataHealth.warnAfterMs, m: 1, n: 1, widenBy: 0, widenWindows: 2 },
      action: { agreeForMs: Number.POSITIVE_INFINITY, severeForMs: Number.POSITIVE_INFINITY, severeSignals: [] },
      clear: { hysteresis: 0, offDelayMs: 0, deescalateMs: 0 },
    };
  }

  private createPoint(a: AssetAlertState, mode: ModeRef, category: AlertCategory): Point {
    const p: Point = {
      mode: mode.id,
      modeName: mode.name,
      check: mode.check,
      category,
      tracker: newTracker(),
      shelving: null,
      outOfService: null,
      episode: null,
      recent: [],
    };
    p.tracker.lastAt = a.clock;
    a.points[mode.id] = p;
    this.dirtyAssets.add(a.id);
    return p;
  }

  /** Drops points that hold nothing: no condition, no episode, no shelving, no out-of-service. */
  private prunePoints(a: AssetAlertState): void {
    for (const [id, p] of Object.entries(a.points)) {
      if (p.episode || p.shelving || p.outOfService || p.tracker.tier !== null || p.tracker.raw) continue;
      if (p.recent.length > 0 && p.recent[p.recent.length - 1] > a.clock - this.config.chatter.windowMs) continue;
      delete a.points[id];
      this.dirtyAssets.add(a.id);
    }
  }

  private effectiveOos(a: AssetAlertState, p: Point): boolean {
    return a.outOfService !== null || p.outOfService !== null;
  }

  private stateOf(a: AssetAlertState, p: Point, ep: Episode, closed: boolean): AlarmState {
    if (closed) return 'normal';
    if (this.effectiveOos(a, p)) return 'out_of_service';
    if (a.suppression || ep.floodSuppressed) return 'suppressed';
    if (p.shelving) return 'shelved';
    if (ep.active) return ep.acked ? 'active_acknowledged' : 'active_unacknowledged';
    if (ep.latched) return 'latched';
    if (!ep.acked) return 'returned_unacknowledged';
    return 'normal';
  }

  private floodSuppresses(tier: Tier): boolean {
    const upTo: FloodSuppress = this.config.flood.suppressUpTo;
    return upTo !== 'none' && tierRank(tier) <= tierRank(upTo);
  }

  private applyDecision(a: AssetAlertState, p: Point, d: Decision, t: number, evidence: Evidence, ctx: Ctx, alternatives?: ModeRef[]): void {
    const cfg = this.pointConfig(a, p);
    this.dirtyAssets.add(a.id);
    const { from, to } = d;
    if (to && !from) {
      let ep = p.episode;
      let transition: Transition;
      if (!ep) {
        ep = this.openEpisode(a, p, t, to, evidence, alternatives);
        transition = 'raised';
      } else {
        ep.active = true;
        ep.latched = false;
        ep.acked = false;
        ep.activeSince = t;
        ep.tier = to;
        if (tierRank(to) > tierRank(ep.peakTier)) ep.peakTier = to;
        ep.evidence = evidence;
        transition = 'reactivated';
      }
      this.activation(a, p, ep, t, to, true, ctx);
      this.emit(a, p, ep, transition, t, ctx, { code: d.code, reason: this.reasonText(a, p, d, cfg, evidence), prevTier: from });
      return;
    }
    const ep = p.episode;
    if (!ep) {
      // A condition without an episode (closed by an acknowledgement while returning): nothing to report.
      return;
    }
    ep.evidence = evidence;
    if (to && from) {
      ep.tier = to;
      if (tierRank(to) > tierRank(from)) {
        if (tierRank(to) > tierRank(ep.peakTier)) ep.peakTier = to;
        ep.acked = false;
        if (ep.floodSuppressed && !this.floodSuppresses(to)) ep.floodSuppressed = false;
        this.activation(a, p, ep, t, to, false, ctx);
        this.emit(a, p, ep, 'escalated', t, ctx, { code: d.code, reason: this.reasonText(a, p, d, cfg, evidence), prevTier: from });
      } else {
        this.emit(a, p, ep, 'de_escalated', t, ctx, { code: d.code, reason: this.reasonText(a, p, d, cfg, evidence), prevTier: from });
      }
      return;
    }
    if (!to && from) {
      ep.active = false;
      ep.tier = null;
      ep.clearedAt = t;
      const oneShot = p.shelving?.kind === 'one_shot';
      if (oneShot) p.shelving = null;
      const needsAck = tierRank(ep.peakTier) >= tierRank(cfg.lifecycle.ackFrom);
      const closed = ep.acked || !needsAck;
      if (!closed && cfg.lifecycle.latching) ep.latched = true;
      let reason = this.reasonText(a, p, d, cfg, evidence);
      if (oneShot) reason += '; one-shot shelving ended';
      this.emit(a, p, ep, 'cleared', t, ctx, { code: oneShot ? 'cleared_one_shot' : 'cleared', reason, closed, prevTier: from });
      if (closed) this.closeEpisode(a, p, t);
    }
  }

  private openEpisode(a: AssetAlertState, p: Point, t: number, tier: Tier, evidence: Evidence, alternatives?: ModeRef[]): Episode {
    let id = `${a.id}:${p.mode}:${t}`;
    for (let n = 2; this.episodeIndex.has(id); n++) id = `${a.id}:${p.mode}:${t}:${n}`;
    const ep: Episode = {
      id,
      seq: 0,
      category: p.category,
      mode: { id: p.mode, name: p.modeName },
      check: p.mode === 'unclassified' || p.category !== 'condition' ? checkFor({ id: p.mode, name: p.modeName, signals: [], check: p.check }, evidence.signals ?? []) : p.check,
      alternatives: (alternatives ?? []).map(({ id: i, name }) => ({ id: i, name })),
      raisedAt: t,
      updatedAt: t,
      activeSince: t,
      tier,
      peakTier: tier,
      active: true,
      acked: false,
      latched: false,
      floodSuppressed: false,
      evidence,
      reasonCode: '',
      reason: '',
      raisedInState: a.opState,
      lastState: 'normal',
    };
    p.episode = ep;
    this.episodeIndex.set(id, a.id);
    return ep;
  }

  private closeEpisode(a: AssetAlertState, p: Point, t: number): void {
    const ep = p.episode;
    if (!ep) return;
    ep.closedAt = t;
    p.episode = null;
    a.history.push(ep);
    while (a.history.length > this.config.historyLimit) {
      const old = a.history.shift()!;
      this.episodeIndex.delete(old.id);
    }
    this.dirtyAssets.add(a.id);
  }

  /** An annunciation: chatter (new activations only), flood detection and the site's KPIs. */
  private activation(a: AssetAlertState, p: Point, ep: Episode, t: number, tier: Tier, isNew: boolean, ctx: Ctx): void {
    const site = this.siteOf(a);
    const s = this.ensureSite(site, ctx.now);
    if (isNew) {
      p.recent.push(t);
      const cut = t - this.config.chatter.windowMs;
      while (p.recent.length > 0 && p.recent[0] <= cut) p.recent.shift();
      if (p.recent.length > 100) p.recent.splice(0, p.recent.length - 100);
      if (p.recent.length >= this.config.chatter.count) recordChatter(s.period, a.id, p.mode);
    }
    if (p.shelving) {
      this.dirtySites.add(site);
      return;
    }
    const outcome = recordActivation(s.flood, site, t, ep.id, this.config.flood);
    if (outcome.ended) this.endFlood(s, outcome.ended, ctx);
    if (outcome.started) {
      ctx.out.floods.push(outcome.started);
      s.period.floods++;
    }
    if (outcome.flood && this.floodSuppresses(tier) && !outcome.flood.leaders.includes(ep.id) && !ep.floodSuppressed) {
      ep.floodSuppressed = true;
      ep.floodId = outcome.flood.id;
      outcome.flood.grouped++;
    }
    recordAnnunciation(s.period, t, a.id, p.mode, tier, ep.floodSuppressed);
    this.dirtySites.add(site);
  }

  private endFlood(s: SiteAlertState, ended: FloodEvent, ctx: Ctx): void {
    ctx.out.floods.push(ended);
    const since = Math.max(ended.since, s.period.start);
    s.period.floodMs += Math.max(0, (ended.until ?? ended.ts) - since);
    this.dirtySites.add(s.site);
    for (const a of this.assets.values()) {
      if (this.siteOf(a) !== s.site) continue;
      for (const p of Object.values(a.points)) {
        const ep = p.episode;
        if (!ep || !ep.floodSuppressed || ep.floodId !== ended.floodId) continue;
        ep.floodSuppressed = false;
        this.dirtyAssets.add(a.id);
        this.emit(a, p, ep, 'unsuppressed', Math.max(a.clock, ended.ts), ctx, { code: 'flood_ended', reason: 'alarm flood ended', prevTier: ep.tier });
      }
    }
  }

  private applyLabel(a: AssetAlertState, ep: Episode, label: AlertLabel, toTwin: boolean, ctx: Ctx): void {
    const site = this.ensureSite(this.siteOf(a), ctx.now);
    const previous = ep.label;
    if (previous) {
      if (previous.type === 'true_fault') {
        a.feedback.truePositives = Math.max(0, a.feedback.truePositives - 1);
        site.period.truePositives = Math.max(0, site.period.truePositives - 1);
      } else {
        a.feedback.falseAlarms = Math.max(0, a.feedback.falseAlarms - 1);
        site.period.falseAlarms = Math.max(0, site.period.falseAlarms - 1);
        const key = reasonKey(previous.reason);
        const n = own(a.feedback.reasons, key);
        if (n !== undefined) a.feedback.reasons[key] = Math.max(0, n - 1);
      }
    }
    ep.label = label;
    if (label.type === 'true_fault') {
      a.feedback.truePositives++;
      site.period.truePositives++;
    } else {
      a.feedback.falseAlarms++;
      site.period.falseAlarms++;
      const key = reasonKey(label.reason);
      a.feedback.reasons[key] = (own(a.feedback.reasons, key) ?? 0) + 1;
      const changed = !previous || previous.type !== 'false_alarm' || reasonKey(previous.reason) !== key;
      if (changed && key === 'startup_transient') {
        a.tuning.startupMaskMs = Math.min(this.config.feedback.maxStartupMaskMs, a.tuning.startupMaskMs + this.config.feedback.startupMaskStepMs);
      }
      if (changed && key === 'mode_shift' && (OPERATING_STATES as readonly string[]).includes(ep.raisedInState)) {
        const current = own(a.tuning.thresholdOffset, ep.raisedInState) ?? 0;
        a.tuning.thresholdOffset[ep.raisedInState] = round(Math.min(this.config.feedback.maxThreshold, current + this.config.feedback.modeShiftStep));
      }
    }
    this.dirtyAssets.add(a.id);
    this.dirtySites.add(site.site);
    const open = Object.values(a.points).find((p) => p.episode === ep);
    const text = `labelled ${label.type === 'true_fault' ? 'a true fault' : 'a false alarm'}${label.reason ? ` (${label.reason})` : ''}`;
    if (open) {
      this.emit(a, open, ep, 'labelled', this.assetTime(a, ctx.now), ctx, { code: 'label', reason: text, prevTier: ep.tier, by: label.by, note: label.note });
    } else {
      // A closed episode: its record gets the label too.
      const ghost: Point = {
        mode: ep.mode.id,
        modeName: ep.mode.name,
        check: ep.check,
        category: ep.category,
        tracker: newTracker(),
        shelving: null,
        outOfService: null,
        episode: ep,
        recent: [],
      };
      this.emit(a, ghost, ep, 'labelled', this.assetTime(a, ctx.now), ctx, { code: 'label', reason: text, prevTier: ep.tier, closed: true, by: label.by, note: label.note });
    }
    if (toTwin) {
      const payload: TwinLabelCommand['payload'] = { kind: 'label', type: label.type, ts: label.ts, episodeId: ep.id };
      if (label.reason) payload.reason = label.reason;
      const signal = ep.evidence.score?.topSignal ?? ep.evidence.rules?.[0]?.signal ?? ep.evidence.signals?.[0];
      if (signal) payload.signal = signal;
      if (label.by) payload.by = label.by;
      if (label.note) payload.note = label.note;
      ctx.out.twin.push({ command: 'event', assetId: a.id, payload });
    }
  }

  private emit(
    a: AssetAlertState,
    p: Point,
    ep: Episode,
    transition: Transition,
    t: number,
    ctx: Ctx,
    o: { code: string; reason: string; prevTier: Tier | null; closed?: boolean; by?: string; note?: string },
  ): void {
    const closed = o.closed === true;
    ep.seq++;
    ep.updatedAt = Math.max(ep.updatedAt, t);
    ep.reasonCode = o.code;
    ep.reason = o.reason;
    const state = this.stateOf(a, p, ep, closed);
    const event: AlertEvent = {
      kind: 'alert',
      eventId: `${ep.id}#${ep.seq}`,
      episodeId: ep.id,
      seq: ep.seq,
      assetId: a.id,
      assetClass: a.info.assetClass,
      path: { ...a.info.path },
      category: ep.category,
      failureMode: { ...ep.mode },
      transition,
      tier: ep.tier,
      peakTier: ep.peakTier,
      priority: ep.tier ? PRIORITY_OF[ep.tier] : null,
      previous: { tier: o.prevTier, state: ep.lastState },
      state,
      alarm: {
        active: ep.active,
        acknowledged: ep.acked,
        latched: ep.latched,
        shelved: p.shelving ? { ...p.shelving } : null,
        suppressed: ep.floodSuppressed ? 'flood' : (a.suppression?.reason ?? null),
        outOfService: this.effectiveOos(a, p),
      },
      annunciated: ANNUNCIATED.has(state),
      closed,
      reasonCode: o.code,
      reason: o.reason,
      evidence: clone(ep.evidence),
      check: ep.check,
      operatingState: a.opState,
      raisedAt: ep.raisedAt,
      ts: Math.max(0, t),
    };
    if (a.info.name) event.assetName = a.info.name;
    if (ep.alternatives.length > 0) event.alternatives = ep.alternatives.map((x) => ({ ...x }));
    if (ep.floodId) event.flood = { id: ep.floodId };
    if (ep.label) event.label = { ...ep.label };
    if (o.by) event.by = o.by;
    if (o.note) event.note = o.note;
    ep.lastState = state;
    ctx.out.events.push(event);
    ctx.touched.add(a.id);
    this.dirtyAssets.add(a.id);
  }

  // ---- evidence and reasons -------------------------------------------------------------

  private evidenceOf(
    p: Point,
    t: number,
    cfg: TierConfig,
    sc: StoredScore | null,
    model: ModelObservation | undefined,
    rules: RuleEvidence[],
    signals: string[],
  ): Evidence {
    const ev: Evidence = {};
    if (sc && model) {
      ev.score = {
        value: round(sc.value),
        threshold: round(model.threshold),
        anomalous: model.anomalous,
        window: { ...sc.window },
        state: sc.state,
        model: sc.model ? { ...sc.model } : null,
        topSignal: sc.topSignal,
      };
      if (Object.keys(sc.contributions).length > 0) ev.contributions = { ...sc.contributions };
    }
    const trend = p.tracker.trend;
    if (sc && trend.length > 0) {
      const slope = slopePerHour(trend);
      const first = trend[0].score;
      const last = trend[trend.length - 1].score;
      ev.trend = { points: trend.map((x) => ({ ...x })), slopePerHour: slope, direction: last - first > 0.02 ? 'rising' : first - last > 0.02 ? 'falling' : 'flat' };
    }
    if (rules.length > 0) {
      ev.rules = rules.map((r) => ({ ...r, ...(r.limits ? { limits: [...r.limits] } : {}) }));
      const zones = rules.filter((r) => r.source === 'zone' && r.zone).sort((x, y) => (y.zone! > x.zone! ? 1 : -1));
      if (zones.length > 0) {
        const z = zones[0];
        ev.zone = { signal: z.signal, zone: z.zone! };
        if (z.preset) ev.zone.preset = z.preset;
        if (z.standard) ev.zone.standard = z.standard;
        if (z.limits) ev.zone.limits = [...z.limits];
        if (z.value !== undefined) ev.zone.value = z.value;
      }
    }
    const involved = new Set<string>(signals);
    if (sc?.topSignal && model?.anomalous) involved.add(sc.topSignal);
    for (const r of rules) involved.add(r.signal);
    if (involved.size > 0) ev.signals = [...involved].sort();
    ev.persistence = {
      activeForMs: p.tracker.activeSince !== null ? Math.max(0, t - p.tracker.activeSince) : 0,
      hits: hitCount(p.tracker, cfg),
      of: p.tracker.hits.length,
    };
    return ev;
  }

  private reasonText(a: AssetAlertState, p: Point, d: Decision, cfg: TierConfig, ev: Evidence): string {
    const s = ev.score;
    const scoreText = s
      ? `anomaly score ${s.value.toFixed(2)} ${s.anomalous ? '≥' : '<'} ${s.threshold.toFixed(2)}${s.topSignal ? `, driven by ${s.topSignal}${ev.contributions?.[s.topSignal] !== undefined ? ` (${Math.round(ev.contributions[s.topSignal] * 100)} %)` : ''}` : ''}`
      : '';
    const rulesText = (ev.rules ?? [])
      .map((r) =>
        r.source === 'zone'
          ? `${r.signal} in ${r.standard ?? 'ISO'} zone ${r.zone}${r.value !== undefined ? ` (${round(r.value, 2)})` : ''}`
          : `${r.signal} ${r.side === 'low' ? 'below' : 'above'} its ${r.level} limit${r.value !== undefined ? ` (${round(r.value, 2)})` : ''}`,
      )
      .join('; ');
    const both = [scoreText, rulesText].filter(Boolean).join('; ');
    const pers = ev.persistence;
    switch (d.code) {
      case 'score':
        return scoreText || 'anomaly score above threshold';
      case 'rule':
        if (p.category === 'no_data') return `no data from ${(ev.signals ?? []).join(', ')}`;
        if (p.category === 'sensor_fault') return `bad quality from ${(ev.signals ?? []).join(', ')}`;
        return rulesText || 'rule above threshold';
      case 'persisted':
        if (p.category === 'no_data') return `no data from ${(ev.signals ?? []).join(', ')} for ${duration(pers?.activeForMs ?? 0)}`;
        if (p.category === 'sensor_fault') return `bad quality from ${(ev.signals ?? []).join(', ')} for ${duration(pers?.activeForMs ?? 0)}`;
        return `condition persisted for ${duration(pers?.activeForMs ?? cfg.warning.onDelayMs)}: ${both}`;
      case 'm_of_n':
        return `anomalous in ${pers?.hits ?? cfg.warning.m} of the last ${cfg.warning.n} windows: ${both}`;
      case 'widening': {
        const pts = ev.trend?.points.slice(-cfg.warning.widenWindows) ?? [];
        return `departure widening: score ${pts.map((x) => x.score.toFixed(2)).join(' → ')}${rulesText ? `; ${rulesText}` : ''}`;
      }
      case 'agreement':
        return `model and rule agree: ${both}`;
      case 'severe':
        return `severe condition persisted for ${duration(cfg.action.severeForMs)}: ${rulesText}`;
      case 'de_escalated':
        return `evidence for ${d.from} gone for ${duration(cfg.clear.deescalateMs)}${both ? `; now ${both}` : ''}`;
      case 'cleared':
        if (p.category === 'no_data') return 'data is arriving again';
        if (p.category === 'sensor_fault') return 'sensor quality is good again';
        return `back to normal for ${duration(cfg.clear.offDelayMs)}${s ? ` (score ${s.value.toFixed(2)})` : ''}`;
      default:
        return both || d.code;
    }
  }

  // ---- summaries, KPIs ------------------------------------------------------------------

  private brief(a: AssetAlertState, p: Point, ep: Episode): EpisodeBrief {
    const b: EpisodeBrief = {
      episodeId: ep.id,
      category: ep.category,
      failureMode: { ...ep.mode },
      tier: ep.tier,
      peakTier: ep.peakTier,
      priority: ep.tier ? PRIORITY_OF[ep.tier] : null,
      state: this.stateOf(a, p, ep, false),
      active: ep.active,
      acknowledged: ep.acked,
      shelved: p.shelving ? { ...p.shelving } : null,
      raisedAt: ep.raisedAt,
      updatedAt: ep.updatedAt,
      reasonCode: ep.reasonCode,
      reason: ep.reason,
      check: ep.check,
      evidence: clone(ep.evidence),
    };
    if (ep.floodId) b.flood = { id: ep.floodId };
    if (ep.label) b.label = { ...ep.label };
    return b;
  }

  /** The latest alert of one asset (what goes retained on `…/<asset>/alert`). */
  summary(a: AssetAlertState | string): AlertSummary | undefined {
    const asset = typeof a === 'string' ? this.assets.get(a) : a;
    if (!asset) return undefined;
    const briefs = Object.values(asset.points)
      .filter((p) => p.episode)
      .map((p) => this.brief(asset, p, p.episode!))
      .sort(
        (x, y) =>
          Number(ANNUNCIATED.has(y.state)) - Number(ANNUNCIATED.has(x.state)) ||
          tierRank(y.tier ?? y.peakTier) - tierRank(x.tier ?? x.peakTier) ||
          y.updatedAt - x.updatedAt ||
          (x.episodeId < y.episodeId ? -1 : 1),
      );
    const shown = briefs.filter((b) => ANNUNCIATED.has(b.state));
    const tier = shown.reduce<Tier | null>((best, b) => (tierRank(b.tier) > tierRank(best) ? b.tier : best), null);
    let status: AssetAlertStatus = 'normal';
    if (asset.outOfService) status = 'out_of_service';
    else if (shown.some((b) => b.category === 'condition')) status = 'alert';
    else if (briefs.some((b) => b.category === 'sensor_fault')) status = 'sensor_fault';
    else if (briefs.some((b) => b.category === 'no_data')) status = 'no_data';
    else if (asset.suppression || briefs.some((b) => b.state === 'suppressed')) status = 'suppressed';
    else if (briefs.some((b) => b.state === 'shelved')) status = 'shelved';
    const labels = asset.feedback.truePositives + asset.feedback.falseAlarms;
    const s: AlertSummary = {
      kind: 'alert_summary',
      assetId: asset.id,
      assetClass: asset.info.assetClass,
      path: { ...asset.info.path },
      status,
      tier,
      priority: tier ? PRIORITY_OF[tier] : null,
      state: briefs[0]?.state ?? 'normal',
      operatingState: asset.opState,
      suppression: asset.suppression ? { ...asset.suppression } : null,
      maintenance: asset.maintenance ? { ...asset.maintenance } : null,
      outOfService: asset.outOfService ? { ...asset.outOfService } : null,
      open: briefs.length,
      unacknowledged: briefs.filter((b) => !b.acknowledged && b.state !== 'normal').length,
      episodes: briefs,
      precision: {
        truePositives: asset.feedback.truePositives,
        falseAlarms: asset.feedback.falseAlarms,
        precision: labels > 0 ? round(asset.feedback.truePositives / labels) : null,
      },
      updatedAt: Math.max(0, asset.summaryAt),
    };
    if (asset.info.name) s.assetName = asset.info.name;
    return s;
  }

  private signature(s: AlertSummary): string {
    return JSON.stringify([
      s.status,
      s.tier,
      s.state,
      s.suppression?.reason ?? null,
      s.maintenance,
      s.outOfService,
      s.precision,
      s.assetClass,
      s.path,
      s.episodes.map((e) => [e.episodeId, e.tier, e.state, e.acknowledged, e.shelved, e.label?.type ?? null, e.label?.reason ?? null, e.reasonCode]),
    ]);
  }

  private finish(ctx: Ctx): EngineOutput {
    for (const id of ctx.touched) {
      const a = this.assets.get(id);
      if (!a) continue;
      const s = this.summary(a)!;
      const sig = this.signature(s);
      if (sig === a.summarySig) continue;
      a.summarySig = sig;
      a.summaryAt = Math.max(0, a.clock);
      s.updatedAt = a.summaryAt;
      this.dirtyAssets.add(id);
      ctx.out.summaries.push(s);
    }
    return ctx.out;
  }

  private standingOf(site: string, now: number): StandingInfo {
    const info: StandingInfo = { standing: 0, shelved: 0, suppressed: 0, outOfService: 0, stale: [] };
    for (const a of this.assets.values()) {
      if (this.siteOf(a) !== site) continue;
      for (const p of Object.values(a.points)) {
        const ep = p.episode;
        if (!ep) continue;
        const st = this.stateOf(a, p, ep, false);
        if (ANNUNCIATED.has(st)) info.standing++;
        if (st === 'shelved') info.shelved++;
        if (st === 'suppressed') info.suppressed++;
        if (st === 'out_of_service') info.outOfService++;
        const age = this.assetTime(a, now) - ep.activeSince;
        if (ep.active && age > this.config.staleAlarmMs) info.stale.push({ episodeId: ep.id, assetId: a.id, failureMode: ep.mode.id, since: ep.activeSince, ageMs: age });
      }
    }
    return info;
  }

  private kpiReport(s: SiteAlertState, now: number): KpiReport {
    return report(s.period, s.site, now, this.standingOf(s.site, now), s.flood.flood?.since ?? null, {
      truePositives: s.period.truePositives,
      falseAlarms: s.period.falseAlarms,
    });
  }

  /** KPI reports of every site for the period so far (does not start a new period). */
  kpis(wallNow: number): KpiReport[] {
    const now = this.siteTime(wallNow);
    return [...this.sites.values()].map((s) => this.kpiReport(s, now));
  }

  // ---- lookups --------------------------------------------------------------------------

  private findEpisode(id: string): { asset: AssetAlertState; episode: Episode; open: boolean } | undefined {
    const assetId = this.episodeIndex.get(id);
    if (assetId === undefined) return undefined;
    const a = this.assets.get(assetId);
    if (!a) return undefined;
    for (const p of Object.values(a.points)) if (p.episode?.id === id) return { asset: a, episode: p.episode, open: true };
    const closed = a.history.find((e) => e.id === id);
    return closed ? { asset: a, episode: closed, open: false } : undefined;
  }

  /** The asset's most recently updated episode, open or closed. */
  private latestEpisode(a: AssetAlertState): Episode | undefined {
    const all = [...Object.values(a.points).map((p) => p.episode).filter((e): e is Episode => e !== null), ...a.history];
    return all.sort((x, y) => y.updatedAt - x.updatedAt || y.raisedAt - x.raisedAt)[0];
  }

  /** Open episodes (for tests and the status line). */
  openEpisodes(): Array<{ assetId: string; mode: string; episode: Episode; state: AlarmState }> {
    const out = [];
    for (const a of this.assets.values()) {
      for (const p of Object.values(a.points)) if (p.episode) out.push({ assetId: a.id, mode: p.mode, episode: p.episode, state: this.stateOf(a, p, p.episode, false) });
    }
    return out;
  }

  asset(id: string): Readonly<AssetAlertState> | undefined {
    return this.assets.get(id);
  }

  site(id: string): Readonly<SiteAlertState> | undefined {
    return this.sites.get(id);
  }

  // ---- persistence ----------------------------------------------------------------------

  /** Assets and sites changed since the last call; `removed` ones should be deleted from the store. */
  takeDirty(): { assets: string[]; sites: string[]; removedAssets: string[]; removedSites: string[] } {
    const assets = [...this.dirtyAssets].filter((id) => this.assets.has(id));
    const sites = [...this.dirtySites].filter((id) => this.sites.has(id));
    const removedSites = [...this.dirtySites].filter((id) => !this.sites.has(id));
    const removedAssets = [...this.removedAssets];
    this.dirtyAssets.clear();
    this.dirtySites.clear();
    this.removedAssets.clear();
    return { assets, sites, removedAssets, removedSites };
  }

  exportAsset(id: string): AssetAlertState | undefined {
    const a = this.assets.get(id);
    return a ? clone(a) : undefined;
  }

  exportSite(id: string): SiteAlertState | undefined {
    const s = this.sites.get(id);
    return s ? clone(s) : undefined;
  }

  /** Restores a saved asset; false when the saved form is unreadable. */
  importAsset(saved: unknown): boolean {
    const id = saved && typeof saved === 'object' ? (saved as { id?: unknown }).id : undefined;
    if (typeof id !== 'string') return false;
    const a = restoreAssetState(saved, id);
    if (!a) return false;
    const old = this.assets.get(id);
    if (old) for (const ep of [...Object.values(old.points).map((p) => p.episode), ...old.history]) if (ep) this.episodeIndex.delete(ep.id);
    a.info = this.resolve(id, a.info);
    this.assets.set(id, a);
    this.noteEventTime(a.clock);
    for (const p of Object.values(a.points)) if (p.episode) this.episodeIndex.set(p.episode.id, id);
    for (const ep of a.history) this.episodeIndex.set(ep.id, id);
    return true;
  }

  importSite(saved: unknown, now: number): boolean {
    const site = saved && typeof saved === 'object' ? (saved as { site?: unknown }).site : undefined;
    if (typeof site !== 'string') return false;
    const s = restoreSiteState(saved, site, this.siteTime(now));
    if (!s) return false;
    this.sites.set(site, s);
    return true;
  }

  /** The whole state (for tests and small deployments). */
  toJSON(): { v: 1; assets: AssetAlertState[]; sites: SiteAlertState[] } {
    return { v: 1, assets: [...this.assets.keys()].map((id) => this.exportAsset(id)!), sites: [...this.sites.keys()].map((id) => this.exportSite(id)!) };
  }

  restore(saved: { assets?: unknown[]; sites?: unknown[] } | undefined, now: number): void {
    for (const a of saved?.assets ?? []) this.importAsset(a);
    for (const s of saved?.sites ?? []) this.importSite(s, now);
  }
}

// ---------------------------------------------------------------------------------------------

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function cleanPath(p: { site?: string; area?: string; line?: string }): { site?: string; area?: string; line?: string } {
  const out: { site?: string; area?: string; line?: string } = {};
  for (const k of ['site', 'area', 'line'] as const) if (typeof p[k] === 'string' && p[k] !== '') out[k] = p[k];
  return out;
}

function categoryOf(mode: string): AlertCategory {
  return mode === 'no_data' || mode === 'sensor_fault' ? mode : 'condition';
}

function reasonKey(reason: string | undefined): string {
  if (!reason) return 'unspecified';
  const k = reason.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return /^[a-z][a-z0-9_]{0,31}$/.test(k) ? k : 'other';
}

function targetText(cmd: AlertCommand): string {
  if (cmd.episodeId !== undefined) return cmd.episodeId;
  return cmd.mode !== undefined ? `${cmd.assetId}/${cmd.mode}` : String(cmd.assetId);
}

function suppressionText(reason: string): string {
  switch (reason) {
    case 'maintenance':
      return 'planned maintenance';
    case 'startup_mask':
      return 'masking after startup';
    default:
      return `machine ${reason}`;
  }
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${round(ms / 3_600_000, 1)} h`;
}
