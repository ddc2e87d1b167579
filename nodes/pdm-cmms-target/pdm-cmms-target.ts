import type { Node, NodeAPI, NodeDef } from 'node-red';
import { TargetRuntime } from '../lib/cmms/client';
import type { TargetConfigNode } from './types';
import { describeTarget, parseTarget, type TargetCredentials, type TargetFields } from '../lib/cmms/target-config';

type TargetNodeDef = NodeDef & TargetFields;


export = function register(RED: NodeAPI): void {
  /**
   * Config node: one CMMS or chat target. Secrets come only from `credentials`. Holds the
   * adapter, one keep-alive agent and the gate (rate limit, circuit pause) shared by every
   * pdm-cmms node that sends here.
   */
  function PdmCmmsTargetNode(this: TargetConfigNode, config: TargetNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const credentials = ((node as unknown as { credentials?: TargetCredentials }).credentials ?? {}) as TargetCredentials;
    const parsed = parseTarget(config, credentials);
    node.problems = parsed.ok ? [] : parsed.errors;
    if (parsed.ok) node.runtime = new TargetRuntime(parsed.spec);
    else node.error(RED._('pdm-cmms-target.errors.invalid', { errors: parsed.errors.join('; ') }));
    node.describe = () => (parsed.ok ? describeTarget(parsed.spec) : String(config.kind));

    node.on('close', (_removed: boolean, done: () => void) => {
      node.runtime?.destroy();
      node.runtime = undefined;
      done();
    });
  }

  RED.nodes.registerType('pdm-cmms-target', PdmCmmsTargetNode as unknown as (this: Node, config: NodeDef) => void, {
    credentials: {
      webhookUrl: { type: 'password' },
      token: { type: 'password' },
      apiKey: { type: 'password' },
      user: { type: 'text' },
      password: { type: 'password' },
    },
  });
};
