/**
 * A target's settings (pdm-cmms-target fields + credentials) checked and completed with the
 * documented defaults of each kind (shared/reference/domain.md §4).
 *
 * Secrets live only in credentials: API keys, tokens, user/password, and the URL of Slack and
 * Teams webhooks (the URL itself is the secret there). Plain headers may not carry
 * Authorization, API-key, session or cookie headers.
 */
import fs from 'node:fs';
import { parsePriorityMap, type PriorityMap } from './priority';
import { parseJsonTemplate } from './template';
import { isTargetKind, type TargetKind } from './types';

export interface TargetFields {
  kind?: string;
  url?: string;
  region?: string;
  method?: string;
  headers?: string;
  bodyTemplate?: string;
  idPath?: string;
  priorityMap?: string;
  locationId?: string;
  assetMap?: string;
  closeStatus?: string;
  ratePerSec?: string | number;
  burst?: string | number;
  timeoutSec?: string | number;
  caFile?: string;
}

export interface TargetCredentials {
  token?: string;
  apiKey?: string;
  user?: string;
  password?: string;
  webhookUrl?: string;
}

export interface TargetSpec {
  kind: TargetKind;
  /** Webhook URL, or the API base URL of a CMMS. */
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  headers: Record<string, string>;
  bodyTemplate?: unknown;
  idPath: string;
  priorities: PriorityMap;
  locationId?: string;
  assetMap: Record<string, string>;
  closeStatus?: string;
  ratePerSec: number;
  burst: number;
  timeoutMs: number;
  caFile?: string;
  /** PEM text of the private CA. */
  ca?: string;
  credentials: TargetCredentials;
}

export const LIMBLE_REGIONS = ['api', 'ca-api', 'au-api', 'eu-api', '21cfr-api'] as const;

export const DEFAULT_URLS: Partial<Record<TargetKind, string>> = {
  maintainx: 'https://api.getmaintainx.com/v1',
  upkeep: 'https://api.onupkeep.com/api/v2',
};

/** Requests per second and burst by kind: Slack ≈ 1 message/s; CMMS APIs a polite 5/s; webhooks unlimited. */
export const DEFAULT_RATES: Record<TargetKind, { ratePerSec: number; burst: number }> = {
  webhook: { ratePerSec: 0, burst: 1 },
  slack: { ratePerSec: 1, burst: 1 },
  teams: { ratePerSec: 1, burst: 2 },
  maintainx: { ratePerSec: 5, burst: 5 },
  upkeep: { ratePerSec: 5, burst: 5 },
  limble: { ratePerSec: 5, burst: 5 },
  atlas: { ratePerSec: 10, burst: 10 },
};

const SECRET_HEADERS = /^(authorization|proxy-authorization|x-api-key|api-key|apikey|session-token|cookie|x-auth-token)$/i;

function optionalNumber(v: string | number | undefined, name: string, errors: string[], min: number, max: number): number | undefined {
  if (v === undefined || v === '' || v === null) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    errors.push(`${name} must be a number from ${min} to ${max}`);
    return undefined;
  }
  return n;
}

function checkUrl(text: string, what: string, errors: string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    errors.push(`${what} is not a URL`);
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    errors.push(`${what} must be http(s)`);
    return undefined;
  }
  if (url.username || url.password) {
    errors.push(`${what} must not contain a user or password: put them in the credentials`);
    return undefined;
  }
  return text.replace(/\/+$/, '') || text;
}

function jsonObject(text: string | undefined, what: string, errors: string[]): Record<string, unknown> | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  errors.push(`${what} must be a JSON object`);
  return undefined;
}

/** The spec, or every problem found (all of them, so the editor and the log can list them). */
export function parseTarget(
  fields: TargetFields,
  credentials: TargetCredentials = {},
  readFile: (file: string) => string = (f) => fs.readFileSync(f, 'utf8'),
): { ok: true; spec: TargetSpec } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const kind = fields.kind;
  if (!isTargetKind(kind)) return { ok: false, errors: [`unknown kind "${String(kind)}" (webhook, slack, teams, maintainx, upkeep, limble, atlas)`] };
  const creds: TargetCredentials = {};
  for (const k of ['token', 'apiKey', 'user', 'password', 'webhookUrl'] as const) {
    const v = credentials[k];
    if (typeof v === 'string' && v !== '') creds[k] = v;
  }

  // Where to send.
  let url: string | undefined;
  const plainUrl = (fields.url ?? '').trim();
  switch (kind) {
    case 'slack':
    case 'teams':
      if (!creds.webhookUrl) errors.push(`the ${kind === 'slack' ? 'Slack' : 'Teams Workflows'} webhook URL is missing (credentials: it is a secret)`);
      else url = checkUrl(creds.webhookUrl, 'the webhook URL', errors);
      break;
    case 'webhook':
      if (creds.webhookUrl) url = checkUrl(creds.webhookUrl, 'the webhook URL', errors);
      else if (plainUrl) url = checkUrl(plainUrl, 'the URL', errors);
      else errors.push('the URL is missing (or the secret webhook URL in the credentials)');
      break;
    case 'limble': {
      const region = fields.region || 'api';
      if (plainUrl) url = checkUrl(plainUrl, 'the API URL', errors);
      else if ((LIMBLE_REGIONS as readonly string[]).includes(region)) url = `https://${region}.limblecmms.com/v2`;
      else errors.push(`region must be one of ${LIMBLE_REGIONS.join(', ')}`);
      break;
    }
    case 'atlas':
      if (!plainUrl) errors.push('the Atlas CMMS API URL is missing (your server, e.g. https://atlas.example.com/api)');
      else url = checkUrl(plainUrl, 'the API URL', errors);
      break;
    default:
      url = checkUrl(plainUrl || DEFAULT_URLS[kind]!, 'the API URL', errors);
  }

  // Credentials each kind needs.
  switch (kind) {
    case 'maintainx':
      if (!creds.apiKey && !creds.token) errors.push('MaintainX needs an API key (credentials)');
      break;
    case 'upkeep':
      if (!creds.user || !creds.password) errors.push('UpKeep needs the email and password of an API user (credentials)');
      break;
    case 'limble':
      if (!creds.user || !creds.password) errors.push('Limble needs the client id and client secret (credentials)');
      if (!fields.locationId) errors.push('Limble needs a location id (tasks belong to a location)');
      break;
    case 'atlas':
      if (!creds.apiKey && !creds.token) errors.push('Atlas CMMS needs an API key (credentials)');
      break;
    default:
      break;
  }
  if (creds.user && !creds.password && (kind === 'webhook')) errors.push('a user needs a password (credentials)');

  const method = (fields.method || 'POST').toUpperCase();
  if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH') errors.push('method must be POST, PUT or PATCH');

  const headers: Record<string, string> = {};
  const rawHeaders = jsonObject(fields.headers, 'headers', errors);
  for (const [name, value] of Object.entries(rawHeaders ?? {})) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/.test(name)) errors.push(`header name "${name.slice(0, 40)}" is not valid`);
    else if (SECRET_HEADERS.test(name)) errors.push(`header "${name}" carries a secret: use the credentials (token, API key, user/password)`);
    else if (typeof value !== 'string' || /[\r\n]/.test(value)) errors.push(`header "${name}" must be a one-line string`);
    else headers[name] = value;
  }

  const template = parseJsonTemplate(fields.bodyTemplate);
  if (!template.ok) errors.push(`body template: ${template.error}`);

  const priorities = parsePriorityMap(kind, fields.priorityMap);
  if (!priorities.ok) errors.push(`priority map: ${priorities.error}`);

  const assetMap: Record<string, string> = {};
  for (const [k, v] of Object.entries(jsonObject(fields.assetMap, 'asset map', errors) ?? {})) {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) assetMap[k] = String(v);
    else errors.push(`asset map: "${k.slice(0, 40)}" must map to a string or number`);
  }

  const defaults = DEFAULT_RATES[kind];
  const ratePerSec = optionalNumber(fields.ratePerSec, 'rate limit', errors, 0, 10_000) ?? defaults.ratePerSec;
  const burst = optionalNumber(fields.burst, 'burst', errors, 1, 10_000) ?? defaults.burst;
  const timeoutSec = optionalNumber(fields.timeoutSec, 'timeout', errors, 0.1, 600) ?? 15;

  let ca: string | undefined;
  const caFile = (fields.caFile ?? '').trim();
  if (caFile) {
    try {
      ca = readFile(caFile);
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
        errors.push(`CA file ${caFile} holds no PEM certificate`);
        ca = undefined;
      }
    } catch (err) {
      errors.push(`CA file ${caFile} cannot be read: ${(err as Error).message}`);
    }
  }

  if (errors.length || !url) return { ok: false, errors: errors.length ? errors : ['the URL is missing'] };
  const spec: TargetSpec = {
    kind,
    url,
    method: method as TargetSpec['method'],
    headers,
    idPath: (fields.idPath ?? '').trim() || 'id',
    priorities: (priorities as { ok: true; map: PriorityMap }).map,
    assetMap,
    ratePerSec,
    burst,
    timeoutMs: Math.round(timeoutSec * 1000),
    credentials: creds,
  };
  if (template.ok && template.value !== undefined) spec.bodyTemplate = template.value;
  if (fields.locationId) spec.locationId = String(fields.locationId).trim();
  if (fields.closeStatus) spec.closeStatus = String(fields.closeStatus).trim();
  if (caFile) spec.caFile = caFile;
  if (ca) spec.ca = ca;
  return { ok: true, spec };
}

/** Where a spec sends, without secrets (for logs, status and work-order messages). */
export function describeTarget(spec: Pick<TargetSpec, 'kind' | 'url'>): string {
  if (spec.kind === 'slack' || spec.kind === 'teams' || spec.kind === 'webhook') {
    try {
      const u = new URL(spec.url);
      return `${spec.kind} ${u.host}`;
    } catch {
      return spec.kind;
    }
  }
  return `${spec.kind} ${spec.url}`;
}
