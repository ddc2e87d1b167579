import type { Node, NodeAPI, NodeDef } from 'node-red';
import { assetDirectory } from '../lib/assets/directory';
import { resolveAsset } from '../lib/assets/resolve';
import type { AssetConfig } from '../lib/assets/types';
import { assetConfigFromFields, type AssetFields } from '../lib/assets/fields';

type AssetNodeDef = NodeDef & AssetFields;

export = function register(RED: NodeAPI): void {
  /** Config node: declares one asset for every pdm node in this runtime. */
  function PdmAssetNode(this: Node, config: AssetNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let asset: AssetConfig | undefined;
    try {
      asset = assetConfigFromFields(config);
      resolveAsset(asset); // validates class, sensors and overrides now, not at the first reading
      const clash = assetDirectory.register(node.id, asset);
      if (clash) node.error(RED._('pdm-asset.errors.duplicate', { assetId: asset.id }));
    } catch (err) {
      node.error(RED._('pdm-asset.errors.invalid', { assetId: config.assetId || '?', error: (err as Error).message }));
    }
    (node as Node & { asset?: AssetConfig }).asset = asset;

    node.on('close', (_removed: boolean, done: () => void) => {
      assetDirectory.unregister(node.id);
      done();
    });
  }

  RED.nodes.registerType('pdm-asset', PdmAssetNode);
};
