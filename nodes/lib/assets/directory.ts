/**
 * Assets declared by pdm-asset config nodes, shared by every node of this package in one
 * Node-RED process. A config node registers its asset when created and withdraws it on close,
 * so a redeploy never leaves a stale definition behind.
 */
import type { AssetConfig } from './types';

type Listener = () => void;

export class AssetDirectory {
  private readonly byOwner = new Map<string, AssetConfig>();
  private readonly byAsset = new Map<string, { owner: string; config: AssetConfig }>();
  private readonly listeners = new Set<Listener>();

  /** Registers (or replaces) the asset owned by `owner`; returns the owner already holding this id, if any. */
  register(owner: string, config: AssetConfig): string | undefined {
    this.unregister(owner, false);
    const clash = this.byAsset.get(config.id);
    if (clash && clash.owner !== owner) return clash.owner;
    this.byOwner.set(owner, config);
    this.byAsset.set(config.id, { owner, config });
    this.notify();
    return undefined;
  }

  unregister(owner: string, notify = true): void {
    const config = this.byOwner.get(owner);
    if (!config) return;
    this.byOwner.delete(owner);
    if (this.byAsset.get(config.id)?.owner === owner) this.byAsset.delete(config.id);
    if (notify) this.notify();
  }

  get(assetId: string): AssetConfig | undefined {
    return this.byAsset.get(assetId)?.config;
  }

  list(): AssetConfig[] {
    return [...this.byAsset.values()].map((e) => e.config);
  }

  /** Called whenever the set of assets changes; returns a function that unsubscribes. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private notify(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A listener's failure must not stop the others or the config node that triggered it.
      }
    }
  }
}

/** The one directory of this process. */
export const assetDirectory = new AssetDirectory();
