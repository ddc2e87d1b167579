import type { Node } from 'node-red';
import type { TargetRuntime } from '../lib/cmms/client';

/** What pdm-cmms nodes read from their pdm-cmms-target config node. */
export interface TargetConfigNode extends Node {
  runtime?: TargetRuntime;
  problems: string[];
  describe(): string;
}
