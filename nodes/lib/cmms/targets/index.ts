import type { TargetSpec } from '../target-config';
import type { TargetKind } from '../types';
import type { Adapter, AdapterFactory } from './adapter';
import { atlasAdapter } from './atlas';
import { limbleAdapter } from './limble';
import { maintainxAdapter } from './maintainx';
import { slackAdapter } from './slack';
import { teamsAdapter } from './teams';
import { upkeepAdapter } from './upkeep';
import { webhookAdapter } from './webhook';

export type { Adapter } from './adapter';

export const ADAPTERS: Record<TargetKind, AdapterFactory> = {
  webhook: webhookAdapter,
  slack: slackAdapter,
  teams: teamsAdapter,
  maintainx: maintainxAdapter,
  upkeep: upkeepAdapter,
  limble: limbleAdapter,
  atlas: atlasAdapter,
};

export function adapterFor(spec: TargetSpec): Adapter {
  return ADAPTERS[spec.kind](spec);
}
