/**
 * Delivers operations to one target over HTTP(S): session handling (UpKeep), the lookup before a
 * create that may already have happened, and the classification of every answer:
 *
 *   2xx                     delivered
 *   429                     retry after Retry-After (target paused), not ambiguous
 *   408, 425                retry, not ambiguous (the server did not take the request)
 *   503                     retry (Retry-After honoured), not ambiguous
 *   500, 502, 504, other 5xx retry, ambiguous (the server may have acted)
 *   401, 403                retry (credentials get fixed by a redeploy), not ambiguous
 *   other 4xx               fatal (the request itself is wrong: dead letter)
 *   refused, DNS, TLS       retry, not ambiguous
 *   reset / timeout after sending   retry, ambiguous
 */
import http from 'node:http';
import https from 'node:https';
import { TargetGate, parseRetryAfter, type BackoffOptions } from './backoff';
import { HttpError, request, type HttpRequestSpec, type HttpResponse } from './http';
import { adapterFor, type Adapter } from './targets';
import type { TargetSpec } from './target-config';
import { realClock, type Clock, type DeliveryClient, type DeliveryOutcome, type OpView } from './types';

/** Pages a lookup reads at most before concluding that the work order does not exist. */
export const MAX_LOOKUP_PAGES = 10;

type Failure = Extract<DeliveryOutcome, { ok: false }>;

export function classifyResponse(res: HttpResponse, now: number): DeliveryOutcome {
  const status = res.status;
  if (status >= 200 && status < 300) return { ok: true, status };
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);
  const detail = res.text.slice(0, 200).replace(/\s+/g, ' ').trim();
  const base = { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), message: `HTTP ${status}${detail ? ` ${detail}` : ''}` };
  if (status === 429) return { ok: false, kind: 'retry', ambiguous: false, code: 'rate_limited', ...base };
  if (status === 408 || status === 425) return { ok: false, kind: 'retry', ambiguous: false, code: 'timeout', ...base };
  if (status === 503) return { ok: false, kind: 'retry', ambiguous: false, code: 'unavailable', ...base };
  if (status >= 500) return { ok: false, kind: 'retry', ambiguous: true, code: 'server_error', ...base };
  if (status === 401 || status === 403) return { ok: false, kind: 'retry', ambiguous: false, code: 'unauthorized', ...base };
  return { ok: false, kind: 'fatal', ambiguous: false, code: 'rejected', ...base };
}

export function classifyError(err: unknown): Failure {
  if (err instanceof HttpError) {
    if (err.code === 'ERR_INVALID_URL' || err.code === 'ERR_INVALID_PROTOCOL') return { ok: false, kind: 'fatal', ambiguous: false, code: 'invalid_url', message: err.message };
    if (err.tls) return { ok: false, kind: 'retry', ambiguous: false, code: 'tls', message: `certificate not trusted: ${err.message}` };
    return { ok: false, kind: 'retry', ambiguous: err.ambiguous, code: err.code === 'ETIMEDOUT' ? 'timeout' : 'network', message: `${err.code}: ${err.message}` };
  }
  return { ok: false, kind: 'retry', ambiguous: true, code: 'network', message: (err as Error)?.message ?? String(err) };
}

export interface ClientOptions {
  timeoutMs: number;
  ca?: string;
  agent?: http.Agent | https.Agent;
  clock?: Clock;
}

export class TargetClient implements DeliveryClient {
  readonly needsExternalId: boolean;
  private session: string | undefined;
  private login: Promise<string> | undefined;
  private readonly clock: Clock;

  constructor(
    readonly adapter: Adapter,
    private readonly options: ClientOptions,
  ) {
    this.needsExternalId = adapter.workOrders;
    this.clock = options.clock ?? realClock;
  }

  private send(spec: HttpRequestSpec, signal?: AbortSignal): Promise<HttpResponse> {
    return request(spec, { timeoutMs: this.options.timeoutMs, agent: this.options.agent, ca: this.options.ca, signal });
  }

  /** Logs in once for all concurrent requests (UpKeep). */
  private async ensureSession(signal?: AbortSignal): Promise<string | undefined> {
    if (!this.adapter.login) return undefined;
    if (this.session) return this.session;
    if (!this.login) {
      this.login = (async () => {
        const res = await this.send(this.adapter.login!(), signal);
        const outcome = classifyResponse(res, this.clock.now());
        if (!outcome.ok) throw Object.assign(new Error(`login failed: ${outcome.message}`), { outcome });
        const token = this.adapter.session?.(res);
        if (!token) throw Object.assign(new Error('login answered without a session token'), { outcome: { ok: false, kind: 'retry', ambiguous: false, code: 'unauthorized', message: 'no session token' } });
        this.session = token;
        return token;
      })().finally(() => {
        this.login = undefined;
      });
    }
    return this.login;
  }

  private async sessionOrFailure(signal?: AbortSignal): Promise<{ session?: string; failure?: Failure }> {
    try {
      return { session: await this.ensureSession(signal) };
    } catch (err) {
      const outcome = (err as { outcome?: Failure }).outcome;
      if (outcome) return { failure: { ...outcome, ambiguous: false, message: (err as Error).message } };
      return { failure: { ...classifyError(err), ambiguous: false } };
    }
  }

  /** Searches the target for the work order carrying `key`; a failure means "do not create now". */
  async lookup(key: string, signal?: AbortSignal): Promise<{ externalId?: string; url?: string } | Failure> {
    if (!this.adapter.lookup || !this.adapter.lookupPage) return {};
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LOOKUP_PAGES; page++) {
      const { session, failure } = await this.sessionOrFailure(signal);
      if (failure) return failure;
      let res: HttpResponse;
      try {
        res = await this.send(this.adapter.lookup(key, cursor, session), signal);
      } catch (err) {
        return { ...classifyError(err), ambiguous: false };
      }
      const outcome = classifyResponse(res, this.clock.now());
      if (!outcome.ok) {
        if (res.status === 401 && this.adapter.login) this.session = undefined;
        return { ...outcome, ambiguous: false, kind: outcome.kind === 'fatal' ? 'retry' : outcome.kind, message: `lookup: ${outcome.message}` };
      }
      const found = this.adapter.lookupPage(res, key, cursor);
      if (found.externalId) return found;
      if (!found.next) return {};
      cursor = found.next;
    }
    return {};
  }

  async deliver(op: OpView, signal?: AbortSignal): Promise<DeliveryOutcome> {
    if (op.operation === 'create' && op.inDoubt && this.adapter.lookup) {
      const found = await this.lookup(op.content.dedupeKey, signal);
      if ('ok' in found) return found;
      if (found.externalId) return { ok: true, externalId: found.externalId, ...(found.url ? { url: found.url } : {}), found: true };
    }
    for (let round = 0; round < 2; round++) {
      const { session, failure } = await this.sessionOrFailure(signal);
      if (failure) return failure;
      let res: HttpResponse;
      try {
        res = await this.send(this.adapter.build(op, session), signal);
      } catch (err) {
        return classifyError(err);
      }
      const outcome = classifyResponse(res, this.clock.now());
      if (!outcome.ok && res.status === 401 && this.adapter.login && round === 0) {
        // The session expired: log in again and repeat once (a 401 was not acted on).
        this.session = undefined;
        continue;
      }
      if (outcome.ok && op.operation === 'create' && this.adapter.created) {
        const made = this.adapter.created(res, op);
        return { ...outcome, ...(made.externalId ? { externalId: made.externalId } : {}), ...(made.url ? { url: made.url } : {}) };
      }
      return outcome;
    }
    return { ok: false, kind: 'retry', ambiguous: false, code: 'unauthorized', message: 'unauthorized after a fresh login' };
  }
}

/**
 * What a pdm-cmms-target config node holds for its users: the adapter, one keep-alive agent, the
 * gate shared by every pdm-cmms node that sends there, and the client.
 */
export class TargetRuntime {
  readonly adapter: Adapter;
  readonly gate: TargetGate;
  readonly client: TargetClient;
  private readonly agent: http.Agent | https.Agent;

  constructor(
    readonly spec: TargetSpec,
    options: { clock?: Clock; pause?: BackoffOptions; maxSockets?: number } = {},
  ) {
    const clock = options.clock ?? realClock;
    this.adapter = adapterFor(spec);
    const secure = spec.url.startsWith('https:');
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16, keepAliveMsecs: 1000 };
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.gate = new TargetGate(clock, {
      ratePerSec: spec.ratePerSec,
      burst: spec.burst,
      pause: options.pause ?? { baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 1 },
    });
    this.client = new TargetClient(this.adapter, { timeoutMs: spec.timeoutMs, ca: spec.ca, agent: this.agent, clock });
  }

  destroy(): void {
    this.agent.destroy();
  }
}
