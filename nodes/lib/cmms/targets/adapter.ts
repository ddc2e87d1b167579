/**
 * A target adapter turns one operation into the HTTP request its documented API expects, and
 * reads the answers it needs (the created work order's id, a lookup page, a login session).
 */
import type { HttpRequestSpec, HttpResponse } from '../http';
import type { TargetSpec } from '../target-config';
import type { OpView, TargetKind } from '../types';

export interface LookupPage {
  /** The work order carrying the episode's marker, when this page holds it. */
  externalId?: string;
  url?: string;
  /** Cursor of the next page; undefined at the end. */
  next?: string;
}

export interface Adapter {
  readonly kind: TargetKind;
  /** Work orders with ids of their own: update/comment/close need the id the create returned. */
  readonly workOrders: boolean;
  build(op: OpView, session?: string): HttpRequestSpec;
  /** The created work order's id (and link) from the create answer. */
  created?(res: HttpResponse, op: OpView): { externalId?: string; url?: string };
  /** One page of a search for the work order of `key` (the marker in its description). */
  lookup?(key: string, cursor: string | undefined, session?: string): HttpRequestSpec;
  lookupPage?(res: HttpResponse, key: string, cursor: string | undefined): LookupPage;
  /** A login that yields a session token (UpKeep). */
  login?(): HttpRequestSpec;
  session?(res: HttpResponse): string | undefined;
}

export type AdapterFactory = (spec: TargetSpec) => Adapter;

export const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' } as const;

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An id field as a string (numbers are common), or undefined. */
export function idOf(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Reads `a.b.0.c` from a JSON value. */
export function pick(value: unknown, path: string): unknown {
  let cur = value;
  for (const part of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (isObject(cur)) cur = cur[part];
    else return undefined;
  }
  return cur;
}

/** Numeric ids stay numbers in JSON bodies (MaintainX, Limble and Atlas ids are numbers). */
export function idValue(id: string): string | number {
  return /^\d{1,15}$/.test(id) ? Number(id) : id;
}

/** A comment for an operation: what happened, then the full text. */
export function commentText(op: OpView): string {
  return op.content.text;
}
