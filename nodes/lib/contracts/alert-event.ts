/**
 * The Alert contracts (DESIGN.md "Contracts": Alert event), validated with the shared ajv and
 * mirrored by TypeScript types:
 *
 * - AlertEvent   one lifecycle transition of one alert episode (raised, escalated, acknowledged, …):
 *                asset, episode id, tier, transition, ISA-18.2 state, reason, evidence, recommended check.
 * - AlertSummary the latest alert of one asset, published retained on `<root>/…/<asset>/alert`.
 * - FloodEvent   a site entering or leaving an alarm flood (> 10 activations in 10 min, ends below 5).
 * - KpiReport    per-site alarm KPIs for one reporting interval (EEMUA 191 / ISA-18.2 figures).
 *
 * Everything is plain JSON: finite numbers, epoch milliseconds, no undefined inside arrays.
 */
import type { SchemaObject } from 'ajv';
import { ajv, describeErrors } from './ajv';
import { ASSET_ID_PATTERN } from './reading';

export type Tier = 'watch' | 'warning' | 'action';
export const TIERS: readonly Tier[] = ['watch', 'warning', 'action'];
/** watch → low, warning → medium, action → high (the EEMUA priority mix is read from these). */
export type Priority = 'low' | 'medium' | 'high';
export const PRIORITY_OF: Readonly<Record<Tier, Priority>> = Object.freeze({ watch: 'low', warning: 'medium', action: 'high' });

/** ISA-18.2 / IEC 62682 alarm states (OPC UA Part 9: Active/Acked/Latched/Shelving/Suppressed/OutOfService). */
export type AlarmState =
  | 'normal'
  | 'active_unacknowledged'
  | 'active_acknowledged'
  | 'returned_unacknowledged'
  | 'latched'
  | 'shelved'
  | 'suppressed'
  | 'out_of_service';
export const ALARM_STATES: readonly AlarmState[] = [
  'normal',
  'active_unacknowledged',
  'active_acknowledged',
  'returned_unacknowledged',
  'latched',
  'shelved',
  'suppressed',
  'out_of_service',
];

export type Transition =
  | 'raised'
  | 'reactivated'
  | 'escalated'
  | 'de_escalated'
  | 'cleared'
  | 'acknowledged'
  | 'shelved'
  | 'unshelved'
  | 'suppressed'
  | 'unsuppressed'
  | 'out_of_service'
  | 'returned_to_service'
  | 'labelled'
  | 'reset';
export const TRANSITIONS: readonly Transition[] = [
  'raised',
  'reactivated',
  'escalated',
  'de_escalated',
  'cleared',
  'acknowledged',
  'shelved',
  'unshelved',
  'suppressed',
  'unsuppressed',
  'out_of_service',
  'returned_to_service',
  'labelled',
  'reset',
];

/** What an episode is about: a machine condition, missing data, or a sensor reporting bad quality. */
export type AlertCategory = 'condition' | 'no_data' | 'sensor_fault';

export type LabelType = 'true_fault' | 'false_alarm';
export interface AlertLabel {
  type: LabelType;
  /** For false alarms: startup_transient | mode_shift | sensor_drift | operator_change | other (free text accepted). */
  reason?: string;
  by?: string;
  note?: string;
  ts: number;
}

export interface ShelvingInfo {
  kind: 'timed' | 'one_shot';
  /** Timed shelving ends here (epoch ms). */
  until?: number;
  since: number;
  by?: string;
  reason?: string;
}

export interface AssetPathInfo {
  site?: string;
  area?: string;
  line?: string;
}

export interface RuleEvidence {
  signal: string;
  level: 'warning' | 'action';
  /** `limit`: a warning/action limit of the asset (twin snapshot); `zone`: an ISO 10816 zone (pdm-retrofit). */
  source: 'limit' | 'zone';
  /** For a limit: `low` when the value fell to a low limit (warningLow/actionLow). */
  side?: 'high' | 'low';
  value?: number;
  zone?: 'A' | 'B' | 'C' | 'D';
  preset?: string;
  standard?: string;
  limits?: number[];
  ts?: number;
}

export interface ScoreEvidence {
  value: number;
  threshold: number;
  anomalous: boolean;
  window: { start: number; end: number };
  state: string;
  model: { id: string; version: number } | null;
  topSignal: string | null;
}

export interface Evidence {
  score?: ScoreEvidence;
  /** Share of the score per signal, from the anomaly model. */
  contributions?: Record<string, number>;
  /** Recent scores of this episode's condition, oldest first, and their slope per hour. */
  trend?: { points: Array<{ t: number; score: number }>; slopePerHour: number; direction: 'rising' | 'falling' | 'flat' };
  /** Business rules that held: limits and standard zones. */
  rules?: RuleEvidence[];
  /** The worst standard zone among the rules, when there is one. */
  zone?: { signal: string; zone: 'A' | 'B' | 'C' | 'D'; preset?: string; standard?: string; limits?: number[]; value?: number };
  /** Signals involved (for no-data / sensor-fault: the stale or bad ones). */
  signals?: string[];
  /** How the condition persisted: active for `activeForMs`, `hits` anomalous of the last `of` windows. */
  persistence?: { activeForMs: number; hits: number; of: number };
}

export interface AlertEvent {
  kind: 'alert';
  /** `<episodeId>#<seq>`: unique per event, for idempotent sinks. */
  eventId: string;
  episodeId: string;
  seq: number;
  assetId: string;
  assetName?: string;
  assetClass: string;
  path: AssetPathInfo;
  category: AlertCategory;
  failureMode: { id: string; name: string };
  transition: Transition;
  /** Current tier; null once the condition has cleared. */
  tier: Tier | null;
  peakTier: Tier;
  priority: Priority | null;
  previous?: { tier: Tier | null; state: AlarmState };
  state: AlarmState;
  alarm: {
    active: boolean;
    acknowledged: boolean;
    latched: boolean;
    shelved: ShelvingInfo | null;
    suppressed: string | null;
    outOfService: boolean;
  };
  /** Shown to people now (not shelved, suppressed, out of service or grouped into a flood). */
  annunciated: boolean;
  /** The episode ended with this event. */
  closed: boolean;
  reasonCode: string;
  reason: string;
  evidence: Evidence;
  /** The recommended check of the failure mode, from the asset class. */
  check: string;
  alternatives?: Array<{ id: string; name: string }>;
  operatingState: string;
  flood?: { id: string };
  label?: AlertLabel;
  by?: string;
  note?: string;
  raisedAt: number;
  /** Event time (epoch ms). */
  ts: number;
}

export interface EpisodeBrief {
  episodeId: string;
  category: AlertCategory;
  failureMode: { id: string; name: string };
  tier: Tier | null;
  peakTier: Tier;
  priority: Priority | null;
  state: AlarmState;
  active: boolean;
  acknowledged: boolean;
  shelved: ShelvingInfo | null;
  flood?: { id: string };
  raisedAt: number;
  updatedAt: number;
  reasonCode: string;
  reason: string;
  check: string;
  evidence: Evidence;
  label?: AlertLabel;
}

export type AssetAlertStatus = 'normal' | 'alert' | 'sensor_fault' | 'no_data' | 'suppressed' | 'shelved' | 'out_of_service';

export interface AlertSummary {
  kind: 'alert_summary';
  assetId: string;
  assetName?: string;
  assetClass: string;
  path: AssetPathInfo;
  status: AssetAlertStatus;
  /** Highest tier among the annunciated open episodes. */
  tier: Tier | null;
  priority: Priority | null;
  /** State of the most important open episode ("normal" without one). */
  state: AlarmState;
  operatingState: string;
  suppression: { reason: string; since: number } | null;
  maintenance: { from: number; until: number; by?: string; note?: string } | null;
  outOfService: { since: number; by?: string; reason?: string } | null;
  open: number;
  unacknowledged: number;
  episodes: EpisodeBrief[];
  precision: { truePositives: number; falseAlarms: number; precision: number | null };
  updatedAt: number;
}

export interface FloodEvent {
  kind: 'flood';
  transition: 'flood_started' | 'flood_ended';
  floodId: string;
  site: string;
  since: number;
  until?: number;
  durationMs?: number;
  /** Activations counted in the flood window when it started / while it lasted. */
  activations: number;
  /** Episodes grouped under the flood (suppressed as consequential); every record is still sent. */
  grouped: number;
  /** The episodes that were annunciated when the flood began (at most 20 ids). */
  leaders: string[];
  ts: number;
}

export interface KpiReport {
  kind: 'alert_kpi';
  site: string;
  period: { start: number; end: number };
  /** Annunciations (raised, reactivated, escalated) in the period, and per hour. */
  alarms: number;
  alarmsPerHour: number;
  /** Most annunciations in any 10-minute bucket of the period. */
  peak10Min: number;
  suppressedByFlood: number;
  floods: number;
  timeInFloodMs: number;
  timeInFloodPct: number;
  chattering: { alarms: number; events: number; top: Array<{ assetId: string; failureMode: string; count: number }> };
  stale: { count: number; episodes: Array<{ episodeId: string; assetId: string; failureMode: string; since: number; ageMs: number }> };
  standing: number;
  shelved: number;
  suppressed: number;
  outOfService: number;
  badActors: Array<{ assetId: string; failureMode: string; count: number; share: number }>;
  top10Share: number;
  priorityMix: Record<Priority, { count: number; share: number }>;
  feedback: { truePositives: number; falseAlarms: number; precision: number | null };
  ts: number;
}

// ---------------------------------------------------------------------------------------------
// Schemas

const epoch = { type: 'number', minimum: 0 };
const text = { type: 'string' };
const tier = { type: 'string', enum: [...TIERS] };
const nullableTier = { type: 'string', enum: [...TIERS, null], nullable: true };
const state = { type: 'string', enum: [...ALARM_STATES] };
const path = {
  type: 'object',
  additionalProperties: false,
  properties: { site: text, area: text, line: text },
};
const mode = { type: 'object', required: ['id', 'name'], additionalProperties: false, properties: { id: text, name: text } };
const label = {
  type: 'object',
  required: ['type', 'ts'],
  additionalProperties: false,
  properties: { type: { type: 'string', enum: ['true_fault', 'false_alarm'] }, reason: text, by: text, note: text, ts: epoch },
};
const shelving = {
  type: 'object',
  required: ['kind', 'since'],
  additionalProperties: false,
  nullable: true,
  properties: { kind: { type: 'string', enum: ['timed', 'one_shot'] }, until: epoch, since: epoch, by: text, reason: text },
};
const zoneLetter = { type: 'string', enum: ['A', 'B', 'C', 'D'] };
const numbers = { type: 'array', items: { type: 'number' } };
const evidence = {
  type: 'object',
  additionalProperties: false,
  properties: {
    score: {
      type: 'object',
      required: ['value', 'threshold', 'anomalous', 'window', 'state', 'model', 'topSignal'],
      additionalProperties: false,
      properties: {
        value: { type: 'number' },
        threshold: { type: 'number' },
        anomalous: { type: 'boolean' },
        window: { type: 'object', required: ['start', 'end'], additionalProperties: false, properties: { start: epoch, end: epoch } },
        state: text,
        model: {
          type: 'object',
          nullable: true,
          required: ['id', 'version'],
          additionalProperties: false,
          properties: { id: text, version: { type: 'number' } },
        },
        topSignal: { type: 'string', nullable: true },
      },
    },
    contributions: { type: 'object', additionalProperties: { type: 'number' } },
    trend: {
      type: 'object',
      required: ['points', 'slopePerHour', 'direction'],
      additionalProperties: false,
      properties: {
        points: {
          type: 'array',
          items: { type: 'object', required: ['t', 'score'], additionalProperties: false, properties: { t: epoch, score: { type: 'number' } } },
        },
        slopePerHour: { type: 'number' },
        direction: { type: 'string', enum: ['rising', 'falling', 'flat'] },
      },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['signal', 'level', 'source'],
        additionalProperties: false,
        properties: {
          signal: text,
          level: { type: 'string', enum: ['warning', 'action'] },
          source: { type: 'string', enum: ['limit', 'zone'] },
          side: { type: 'string', enum: ['high', 'low'] },
          value: { type: 'number' },
          zone: zoneLetter,
          preset: text,
          standard: text,
          limits: numbers,
          ts: epoch,
        },
      },
    },
    zone: {
      type: 'object',
      required: ['signal', 'zone'],
      additionalProperties: false,
      properties: { signal: text, zone: zoneLetter, preset: text, standard: text, limits: numbers, value: { type: 'number' } },
    },
    signals: { type: 'array', items: text },
    persistence: {
      type: 'object',
      required: ['activeForMs', 'hits', 'of'],
      additionalProperties: false,
      properties: { activeForMs: { type: 'number', minimum: 0 }, hits: { type: 'integer', minimum: 0 }, of: { type: 'integer', minimum: 0 } },
    },
  },
};

export const alertEventSchema: SchemaObject = {
  $id: 'pdm-twin/alert-event.json',
  title: 'AlertEvent',
  type: 'object',
  required: [
    'kind', 'eventId', 'episodeId', 'seq', 'assetId', 'assetClass', 'path', 'category', 'failureMode', 'transition', 'tier', 'peakTier',
    'priority', 'state', 'alarm', 'annunciated', 'closed', 'reasonCode', 'reason', 'evidence', 'check', 'operatingState', 'raisedAt', 'ts',
  ],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', const: 'alert' },
    eventId: text,
    episodeId: { type: 'string', minLength: 1 },
    seq: { type: 'integer', minimum: 1 },
    assetId: { type: 'string', pattern: ASSET_ID_PATTERN },
    assetName: text,
    assetClass: text,
    path,
    category: { type: 'string', enum: ['condition', 'no_data', 'sensor_fault'] },
    failureMode: mode,
    transition: { type: 'string', enum: [...TRANSITIONS] },
    tier: nullableTier,
    peakTier: tier,
    priority: { type: 'string', enum: ['low', 'medium', 'high', null], nullable: true },
    previous: {
      type: 'object',
      required: ['tier', 'state'],
      additionalProperties: false,
      properties: { tier: nullableTier, state },
    },
    state,
    alarm: {
      type: 'object',
      required: ['active', 'acknowledged', 'latched', 'shelved', 'suppressed', 'outOfService'],
      additionalProperties: false,
      properties: {
        active: { type: 'boolean' },
        acknowledged: { type: 'boolean' },
        latched: { type: 'boolean' },
        shelved: shelving,
        suppressed: { type: 'string', nullable: true },
        outOfService: { type: 'boolean' },
      },
    },
    annunciated: { type: 'boolean' },
    closed: { type: 'boolean' },
    reasonCode: text,
    reason: text,
    evidence,
    check: text,
    alternatives: { type: 'array', items: mode },
    operatingState: text,
    flood: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: text } },
    label,
    by: text,
    note: text,
    raisedAt: epoch,
    ts: epoch,
  },
};

const episodeBrief = {
  type: 'object',
  required: [
    'episodeId', 'category', 'failureMode', 'tier', 'peakTier', 'priority', 'state', 'active', 'acknowledged', 'shelved', 'raisedAt',
    'updatedAt', 'reasonCode', 'reason', 'check', 'evidence',
  ],
  additionalProperties: false,
  properties: {
    episodeId: text,
    category: { type: 'string', enum: ['condition', 'no_data', 'sensor_fault'] },
    failureMode: mode,
    tier: nullableTier,
    peakTier: tier,
    priority: { type: 'string', enum: ['low', 'medium', 'high', null], nullable: true },
    state,
    active: { type: 'boolean' },
    acknowledged: { type: 'boolean' },
    shelved: shelving,
    flood: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: text } },
    raisedAt: epoch,
    updatedAt: epoch,
    reasonCode: text,
    reason: text,
    check: text,
    evidence,
    label,
  },
};

export const alertSummarySchema: SchemaObject = {
  $id: 'pdm-twin/alert-summary.json',
  title: 'AlertSummary',
  type: 'object',
  required: [
    'kind', 'assetId', 'assetClass', 'path', 'status', 'tier', 'priority', 'state', 'operatingState', 'suppression', 'maintenance',
    'outOfService', 'open', 'unacknowledged', 'episodes', 'precision', 'updatedAt',
  ],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', const: 'alert_summary' },
    assetId: { type: 'string', pattern: ASSET_ID_PATTERN },
    assetName: text,
    assetClass: text,
    path,
    status: { type: 'string', enum: ['normal', 'alert', 'sensor_fault', 'no_data', 'suppressed', 'shelved', 'out_of_service'] },
    tier: nullableTier,
    priority: { type: 'string', enum: ['low', 'medium', 'high', null], nullable: true },
    state,
    operatingState: text,
    suppression: {
      type: 'object',
      nullable: true,
      required: ['reason', 'since'],
      additionalProperties: false,
      properties: { reason: text, since: epoch },
    },
    maintenance: {
      type: 'object',
      nullable: true,
      required: ['from', 'until'],
      additionalProperties: false,
      properties: { from: epoch, until: epoch, by: text, note: text },
    },
    outOfService: {
      type: 'object',
      nullable: true,
      required: ['since'],
      additionalProperties: false,
      properties: { since: epoch, by: text, reason: text },
    },
    open: { type: 'integer', minimum: 0 },
    unacknowledged: { type: 'integer', minimum: 0 },
    episodes: { type: 'array', items: episodeBrief },
    precision: {
      type: 'object',
      required: ['truePositives', 'falseAlarms', 'precision'],
      additionalProperties: false,
      properties: {
        truePositives: { type: 'integer', minimum: 0 },
        falseAlarms: { type: 'integer', minimum: 0 },
        precision: { type: 'number', nullable: true, minimum: 0, maximum: 1 },
      },
    },
    updatedAt: epoch,
  },
};

export const floodEventSchema: SchemaObject = {
  $id: 'pdm-twin/alert-flood.json',
  title: 'FloodEvent',
  type: 'object',
  required: ['kind', 'transition', 'floodId', 'site', 'since', 'activations', 'grouped', 'leaders', 'ts'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', const: 'flood' },
    transition: { type: 'string', enum: ['flood_started', 'flood_ended'] },
    floodId: text,
    site: text,
    since: epoch,
    until: epoch,
    durationMs: { type: 'number', minimum: 0 },
    activations: { type: 'integer', minimum: 0 },
    grouped: { type: 'integer', minimum: 0 },
    leaders: { type: 'array', items: text },
    ts: epoch,
  },
};

const share = { type: 'number', minimum: 0, maximum: 1 };
const mix = { type: 'object', required: ['count', 'share'], additionalProperties: false, properties: { count: { type: 'integer', minimum: 0 }, share } };
export const kpiReportSchema: SchemaObject = {
  $id: 'pdm-twin/alert-kpi.json',
  title: 'KpiReport',
  type: 'object',
  required: [
    'kind', 'site', 'period', 'alarms', 'alarmsPerHour', 'peak10Min', 'suppressedByFlood', 'floods', 'timeInFloodMs', 'timeInFloodPct',
    'chattering', 'stale', 'standing', 'shelved', 'suppressed', 'outOfService', 'badActors', 'top10Share', 'priorityMix', 'feedback', 'ts',
  ],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', const: 'alert_kpi' },
    site: text,
    period: { type: 'object', required: ['start', 'end'], additionalProperties: false, properties: { start: epoch, end: epoch } },
    alarms: { type: 'integer', minimum: 0 },
    alarmsPerHour: { type: 'number', minimum: 0 },
    peak10Min: { type: 'integer', minimum: 0 },
    suppressedByFlood: { type: 'integer', minimum: 0 },
    floods: { type: 'integer', minimum: 0 },
    timeInFloodMs: { type: 'number', minimum: 0 },
    timeInFloodPct: { type: 'number', minimum: 0, maximum: 100 },
    chattering: {
      type: 'object',
      required: ['alarms', 'events', 'top'],
      additionalProperties: false,
      properties: {
        alarms: { type: 'integer', minimum: 0 },
        events: { type: 'integer', minimum: 0 },
        top: {
          type: 'array',
          items: {
            type: 'object',
            required: ['assetId', 'failureMode', 'count'],
            additionalProperties: false,
            properties: { assetId: text, failureMode: text, count: { type: 'integer', minimum: 0 } },
          },
        },
      },
    },
    stale: {
      type: 'object',
      required: ['count', 'episodes'],
      additionalProperties: false,
      properties: {
        count: { type: 'integer', minimum: 0 },
        episodes: {
          type: 'array',
          items: {
            type: 'object',
            required: ['episodeId', 'assetId', 'failureMode', 'since', 'ageMs'],
            additionalProperties: false,
            properties: { episodeId: text, assetId: text, failureMode: text, since: epoch, ageMs: { type: 'number', minimum: 0 } },
          },
        },
      },
    },
    standing: { type: 'integer', minimum: 0 },
    shelved: { type: 'integer', minimum: 0 },
    suppressed: { type: 'integer', minimum: 0 },
    outOfService: { type: 'integer', minimum: 0 },
    badActors: {
      type: 'array',
      maxItems: 10,
      items: {
        type: 'object',
        required: ['assetId', 'failureMode', 'count', 'share'],
        additionalProperties: false,
        properties: { assetId: text, failureMode: text, count: { type: 'integer', minimum: 0 }, share },
      },
    },
    top10Share: share,
    priorityMix: { type: 'object', required: ['low', 'medium', 'high'], additionalProperties: false, properties: { low: mix, medium: mix, high: mix } },
    feedback: {
      type: 'object',
      required: ['truePositives', 'falseAlarms', 'precision'],
      additionalProperties: false,
      properties: {
        truePositives: { type: 'integer', minimum: 0 },
        falseAlarms: { type: 'integer', minimum: 0 },
        precision: { type: 'number', nullable: true, minimum: 0, maximum: 1 },
      },
    },
    ts: epoch,
  },
};

export const validateAlertEvent = ajv.compile<AlertEvent>(alertEventSchema);
export const validateAlertSummary = ajv.compile<AlertSummary>(alertSummarySchema);
export const validateFloodEvent = ajv.compile<FloodEvent>(floodEventSchema);
export const validateKpiReport = ajv.compile<KpiReport>(kpiReportSchema);

/** Undefined when `candidate` is a valid AlertEvent, else the first problem. */
export function alertEventProblem(candidate: unknown): string | undefined {
  return validateAlertEvent(candidate) ? undefined : describeErrors(validateAlertEvent.errors);
}
export function alertSummaryProblem(candidate: unknown): string | undefined {
  return validateAlertSummary(candidate) ? undefined : describeErrors(validateAlertSummary.errors);
}
export function floodEventProblem(candidate: unknown): string | undefined {
  return validateFloodEvent(candidate) ? undefined : describeErrors(validateFloodEvent.errors);
}
export function kpiReportProblem(candidate: unknown): string | undefined {
  return validateKpiReport(candidate) ? undefined : describeErrors(validateKpiReport.errors);
}

export function tierRank(tier: Tier | null | undefined): number {
  return tier ? TIERS.indexOf(tier) + 1 : 0;
}
