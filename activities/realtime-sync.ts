import type { Connections } from './connections';
import { emptyCounts, type SyncCounts } from './prefix-sync/counts';
import { reconcilePrefixes, type PrefixObservation } from './prefix-sync/reconcile';
import { Ledger } from './store/ledger';

/** One batch of NetBox changes for one instance, as the workflow collected them (deduplicated). */
export interface NetBoxChangeBatch {
  instanceId: number;
  /** Prefixes some event said changed: each is re-read from NetBox. */
  prefixIds: number[];
  /** Sites some event said changed or went away: the prefixes behind our blocks on them are re-read. */
  siteNames: string[];
}

export interface NetBoxChangeBatchResult {
  counts: SyncCounts;
  /** Prefix ids re-read from NetBox (events plus the ledger rows of the sites named). */
  prefixesReread: number;
  /** Changes dropped without effect because the instance's prefix sync was off (or the instance was removed). */
  dropped: number;
  droppedReason: 'prefixSyncDisabled' | 'unknownInstance' | null;
}

export function createRealtimeSyncActivities(c: Connections) {
  return {
    /**
     * Brings the IP Blocks of the changed prefixes in line with what NetBox says now. Events are hints: the
     * prefixes are re-read, a prefix NetBox no longer has counts as deleted, and the ledger decides which
     * blocks are ours, so any order, duplicate or late event ends in the same state. A deleted site is
     * handled through the ledger rows on the Network Site of that name: in 4.2+ their prefixes are gone
     * (removed), in 4.1 they were moved or deleted before the site could be (followed), and a prefix still
     * on a site of that name keeps its block.
     */
    async applyNetBoxChanges(batch: NetBoxChangeBatch): Promise<NetBoxChangeBatchResult> {
      const changes = batch.prefixIds.length + batch.siteNames.length;
      const instance = await c.instances.findById(batch.instanceId);
      // Events queued before sync was turned off (or the instance removed) are dropped, counted, not retried forever.
      if (!instance) return { counts: emptyCounts(), prefixesReread: 0, dropped: changes, droppedReason: 'unknownInstance' };
      if (!instance.prefixSyncEnabled) {
        return { counts: emptyCounts(), prefixesReread: 0, dropped: changes, droppedReason: 'prefixSyncDisabled' };
      }

      const ids = new Set(batch.prefixIds);
      const ledger = new Ledger(c.db);
      for (const name of batch.siteNames) {
        for (const entry of await ledger.forNetworkSiteName(instance.id, name)) ids.add(entry.netboxPrefixId);
      }
      const prefixIds = [...ids];
      // NetBox is read before the transaction opens, so no database lock is held across HTTP requests.
      const netbox = await c.netboxFor(instance);
      const found = new Map((await netbox.prefixesById(prefixIds)).map((p) => [p.id, p]));
      const observations: PrefixObservation[] = prefixIds.map((id) => ({ prefixId: id, prefix: found.get(id) ?? null }));

      const counts = await c.inSyncUnit((unit) =>
        reconcilePrefixes(unit, observations, { instanceId: instance.id, roleFilter: instance.roleFilter, mode: 'converge' }),
      );
      return { counts, prefixesReread: prefixIds.length, dropped: 0, droppedReason: null };
    },
  };
}
