/**
 * Feedback in: a closed work order becomes a label for pdm-twin and pdm-alert.
 *
 * Reads the generic shape
 *   {externalId | workOrderId | taskID | id, episodeId?, status, outcome | label | resolution, reason?, note?, by?}
 * and the nested shapes CMMS webhooks use ({workOrder: {...}}, {newWorkOrder: {...}}, {data: {...}},
 * {result: {...}}). A work order counts as closed when its status is done / closed / complete(d) /
 * resolved, or `closed: true`. The outcome is read from the outcome/label/resolution field, else
 * from the completion notes: "no fault found", "NFF", "false alarm" → false_alarm; "fault
 * confirmed", "true fault", "confirmed" → true_fault.
 */
import type { LabelType } from './types';

export interface Feedback {
  externalId?: string;
  episodeId?: string;
  closed: boolean;
  status?: string;
  label?: LabelType;
  reason?: string;
  note?: string;
  by?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown, max = 500): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, max) : undefined);
const id = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 128) : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

const CLOSED = /^(done|closed?|complete[d]?|resolved|finished)$/i;

/** Maps an outcome word or a note to a label. */
export function labelOf(value: unknown): LabelType | undefined {
  const t = typeof value === 'string' ? value.trim().toLowerCase().replace(/[\s-]+/g, '_') : '';
  if (!t) return undefined;
  if (['true_fault', 'fault_confirmed', 'confirmed', 'fault', 'true_positive', 'tp'].includes(t)) return 'true_fault';
  if (['false_alarm', 'no_fault_found', 'nff', 'no_fault', 'false_positive', 'fp'].includes(t)) return 'false_alarm';
  const s = String(value).toLowerCase();
  if (/\bno fault found\b|\bnff\b|\bfalse alarm\b|\bno fault\b|\bnothing found\b/.test(s)) return 'false_alarm';
  if (/\bfault confirmed\b|\bconfirmed fault\b|\btrue fault\b|\bconfirmed\b/.test(s)) return 'true_fault';
  return undefined;
}

export function readFeedback(body: unknown): { ok: true; feedback: Feedback } | { ok: false; detail: string } {
  if (!isObject(body)) return { ok: false, detail: 'the body is not a JSON object' };
  const layers: Record<string, unknown>[] = [body];
  for (const k of ['workOrder', 'newWorkOrder', 'data', 'result', 'task', 'object']) if (isObject(body[k])) layers.push(body[k] as Record<string, unknown>);
  const first = (...keys: string[]): unknown => {
    for (const layer of layers) for (const k of keys) if (layer[k] !== undefined && layer[k] !== null && layer[k] !== '') return layer[k];
    return undefined;
  };
  const externalId = id(first('externalId', 'workOrderId', 'workOrderID', 'taskID', 'taskId', 'id'));
  const episodeId = id(first('episodeId'));
  if (!externalId && !episodeId) return { ok: false, detail: 'neither a work-order id (externalId, workOrderId, taskID, id) nor an episodeId' };
  const status = text(first('status', 'statusName', 'state'), 64);
  const closed = first('closed') === true || (status !== undefined && CLOSED.test(status));
  const notes = text(first('completionNotes', 'resolutionNotes', 'note', 'notes', 'comment'), 1000);
  const label = labelOf(first('outcome', 'label', 'resolution', 'type')) ?? labelOf(notes);
  const feedback: Feedback = { closed };
  if (externalId) feedback.externalId = externalId;
  if (episodeId) feedback.episodeId = episodeId;
  if (status) feedback.status = status;
  if (label) feedback.label = label;
  const reason = text(first('reason', 'cause'), 200);
  if (reason) feedback.reason = reason;
  if (notes) feedback.note = notes;
  const by = text(first('by', 'completedBy', 'user'), 128);
  if (by) feedback.by = by;
  return { ok: true, feedback };
}
