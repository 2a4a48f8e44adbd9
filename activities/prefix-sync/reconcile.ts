import type { GaiiaTarget, IpBlock, NetworkSite } from '../gaiia/target';
import type { NetBoxPrefix } from '../netbox/schemas';
import type { Ledger, LedgerEntry } from '../store/ledger';
import { emptyCounts, type SyncCounts } from './counts';
import { desiredBlockFor } from './desired-block';

/** What NetBox says about one prefix now: its current state, or null when it no longer exists. */
export interface PrefixObservation {
  prefixId: number;
  prefix: NetBoxPrefix | null;
}

/** The ledger and the gaiia target, bound to one unit of work (one database transaction when embedded). */
export interface SyncUnit {
  ledger: Ledger;
  target: GaiiaTarget;
}

export interface ReconcileOptions {
  instanceId: number;
  roleFilter: readonly number[];
  /**
   * `additive` (full sync): create missing blocks and correct ours in place, never remove.
   * `converge` (real-time): also remove or move ours so gaiia ends equal to what NetBox says now.
   */
  mode: 'additive' | 'converge';
  /**
   * When NetBox was read for these observations. A prefix the real-time sync saw deleted after that moment
   * is left alone, so a page read just before a delete cannot bring its block back.
   */
  observedAt?: string;
}

interface Placement {
  prefixId: number;
  site: NetworkSite;
  block: string;
  description: string;
  lastUpdated: string | null;
}

/**
 * Brings the IP Blocks of a batch of prefixes in line with NetBox. Blocks are touched only through this
 * instance's ledger: a block with the same CIDR that is not this prefix's (made by hand, or by another
 * instance) is reported as a conflict and never adopted, changed or removed.
 */
export async function reconcilePrefixes(
  unit: SyncUnit,
  observations: PrefixObservation[],
  options: ReconcileOptions,
): Promise<SyncCounts> {
  const { instanceId, roleFilter, mode, observedAt } = options;
  const counts = emptyCounts();
  const latest = new Map(observations.map((o) => [o.prefixId, o]));
  const prefixIds = [...latest.keys()];

  const ledger = new Map((await unit.ledger.forPrefixes(instanceId, prefixIds)).map((e) => [e.netboxPrefixId, e]));
  const deletedSince = observedAt
    ? await unit.ledger.deletedAfter(instanceId, prefixIds.filter((id) => latest.get(id)!.prefix), observedAt)
    : new Set<number>();
  const desired = new Map(
    [...latest.values()].filter((o) => o.prefix).map((o) => [o.prefixId, desiredBlockFor(o.prefix!, roleFilter)]),
  );
  const wantedSiteNames = [...desired.values()].flatMap((d) => (d.kind === 'block' ? [d.networkSiteName] : []));
  const sitesByName = new Map((await unit.target.findNetworkSitesByName(wantedSiteNames)).map((s) => [s.name, s]));
  // Only the blocks this batch can touch: ours (by id) and any holding a CIDR we are about to place.
  const placements = [...latest.values()].flatMap((o) => {
    const want = desired.get(o.prefixId);
    const site = want?.kind === 'block' ? sitesByName.get(want.networkSiteName) : undefined;
    return site && want?.kind === 'block' ? [{ networkSiteId: site.id, block: want.block }] : [];
  });
  const blocks = new SiteBlocks(await unit.target.findIpBlocks({ ids: [...ledger.values()].map((e) => e.ipBlockId), placements }));

  const removals: LedgerEntry[] = [];
  const updates: Array<{ entry: LedgerEntry; to: Placement }> = [];
  const additions: Placement[] = [];
  const vanished: number[] = [];
  const refreshed: LedgerEntry[] = [];

  for (const prefixId of prefixIds) {
    const observed = latest.get(prefixId)!;
    const recorded = ledger.get(prefixId);
    const ours = recorded && blocks.byId(recorded.ipBlockId);
    // Our block was removed or moved in gaiia by someone else: forget it; it is re-created below if still wanted.
    const entry = ours && ours.networkSiteId === recorded.networkSiteId ? recorded : undefined;
    if (recorded && !entry) vanished.push(prefixId);

    let to: Placement | undefined;
    if (observed.prefix) {
      counts.prefixes++;
      // A stale read (NetBox changed or deleted the prefix after this observation was made and the ledger
      // already reflects that) must not undo the newer state.
      if (deletedSince.has(prefixId) || (recorded && isOlder(observed.prefix.lastUpdated, recorded.netboxLastUpdated))) {
        counts.skipped.changedDuringSync++;
        continue;
      }
      const want = desired.get(prefixId)!;
      if (want.kind === 'skip') counts.skipped[want.reason]++;
      else {
        const site = sitesByName.get(want.networkSiteName);
        if (!site) {
          counts.skipped.noMatchingNetworkSite++;
          if (!counts.missingNetworkSites.includes(want.networkSiteName)) counts.missingNetworkSites.push(want.networkSiteName);
        } else {
          to = { prefixId, site, block: want.block, description: want.description, lastUpdated: observed.prefix.lastUpdated };
        }
      }
    }

    if (!entry) {
      if (to) additions.push(to);
    } else if (!to) {
      if (mode === 'converge') removals.push(entry);
    } else if (to.site.id !== entry.networkSiteId) {
      if (mode === 'converge') {
        removals.push(entry);
        additions.push(to);
      } else counts.skipped.ownBlockOnAnotherSite++;
    } else if (ours!.block === to.block && ours!.description === to.description) {
      counts.alreadyPresent++;
      if (entry.netboxLastUpdated !== to.lastUpdated || entry.cidr !== to.block) {
        refreshed.push({ ...entry, cidr: to.block, description: to.description, netboxLastUpdated: to.lastUpdated });
      }
    } else updates.push({ entry, to });
  }

  if (vanished.length) await unit.ledger.remove(instanceId, vanished);
  // Deletions are remembered whether or not we had a block yet: a full sync page read before the delete
  // must not create one afterwards.
  const deleted = prefixIds.filter((id) => latest.get(id)!.prefix === null);
  if (mode === 'converge' && deleted.length) await unit.ledger.recordDeletions(instanceId, deleted, new Date().toISOString());

  // Removals first, so a CIDR freed by a move or a delete can be reused in the same batch.
  if (removals.length) {
    await unit.target.removeIpBlocks(
      [...groupBy(removals, (e) => e.networkSiteId)].map(([networkSiteId, entries]) => ({ networkSiteId, ipBlockIds: entries.map((e) => e.ipBlockId) })),
    );
    for (const e of removals) blocks.forget(e.ipBlockId);
    await unit.ledger.remove(instanceId, removals.map((e) => e.netboxPrefixId));
    counts.removed += removals.length;
  }

  for (const { entry, to } of updates) {
    const current = blocks.byId(entry.ipBlockId)!;
    if (to.block !== current.block && blocks.onSite(to.site.id, to.block)) {
      conflict(counts, to);
      if (mode === 'converge') {
        // Ours no longer matches NetBox and the new CIDR is taken by a block that is not ours: drop ours.
        await unit.target.removeIpBlocks([{ networkSiteId: entry.networkSiteId, ipBlockIds: [entry.ipBlockId] }]);
        blocks.forget(entry.ipBlockId);
        await unit.ledger.remove(instanceId, [entry.netboxPrefixId]);
        counts.removed++;
      }
      continue;
    }
    const updated = await unit.target.updateIpBlock(entry.ipBlockId, { block: to.block, description: to.description });
    blocks.replace(updated);
    refreshed.push(ledgerEntry(instanceId, to, updated));
    counts.updated++;
  }

  const fresh: Placement[] = [];
  const claimed = new Set<string>();
  for (const p of additions) {
    const key = `${p.site.id} ${p.block}`;
    if (blocks.onSite(p.site.id, p.block) || claimed.has(key)) conflict(counts, p);
    else {
      claimed.add(key);
      fresh.push(p);
    }
  }
  if (fresh.length) {
    const added = await unit.target.addIpBlocks(
      [...groupBy(fresh, (p) => p.site.id)].map(([networkSiteId, ps]) => ({
        networkSiteId,
        blocks: ps.map((p) => ({ block: p.block, description: p.description })),
      })),
    );
    const addedByKey = new Map(added.map((b) => [`${b.networkSiteId} ${b.block}`, b]));
    for (const p of fresh) {
      const block = addedByKey.get(`${p.site.id} ${p.block}`);
      if (!block) throw new Error(`gaiia did not return the IP Block ${p.block} just added to Network Site '${p.site.name}'`);
      blocks.replace(block);
      refreshed.push(ledgerEntry(instanceId, p, block));
    }
    counts.created += fresh.length;
  }

  if (refreshed.length) await unit.ledger.upsert(refreshed);
  return counts;
}

function isOlder(observed: string | null, recorded: string | null): boolean {
  if (!observed || !recorded) return false;
  return Date.parse(observed) < Date.parse(recorded);
}

function ledgerEntry(instanceId: number, p: Placement, block: IpBlock): LedgerEntry {
  return {
    instanceId,
    netboxPrefixId: p.prefixId,
    networkSiteId: p.site.id,
    networkSiteName: p.site.name,
    ipBlockId: block.id,
    cidr: block.block,
    description: block.description,
    netboxLastUpdated: p.lastUpdated,
  };
}

function conflict(counts: SyncCounts, p: Placement): void {
  counts.skipped.conflictingBlock++;
  if (counts.conflicts.length < 50) counts.conflicts.push({ prefixId: p.prefixId, cidr: p.block, networkSite: p.site.name });
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The IP Blocks of the sites a batch touches, looked up by id and by (site, CIDR). */
class SiteBlocks {
  private readonly ids = new Map<string, IpBlock>();
  private readonly cidrs = new Map<string, IpBlock>();

  constructor(blocks: IpBlock[]) {
    for (const b of blocks) this.replace(b);
  }

  byId(id: string): IpBlock | undefined {
    return this.ids.get(id);
  }

  onSite(siteId: string, block: string): IpBlock | undefined {
    return this.cidrs.get(`${siteId} ${block}`);
  }

  replace(block: IpBlock): void {
    this.forget(block.id);
    this.ids.set(block.id, block);
    this.cidrs.set(`${block.networkSiteId} ${block.block}`, block);
  }

  forget(id: string): void {
    const old = this.ids.get(id);
    if (!old) return;
    this.ids.delete(id);
    this.cidrs.delete(`${old.networkSiteId} ${old.block}`);
  }
}
