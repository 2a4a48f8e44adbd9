import type { Kysely, Selectable } from 'kysely';
import type { Database, PrefixBlockLedgerTable } from './schema';

/** One IP Block this integration created for one NetBox prefix. */
export interface LedgerEntry {
  instanceId: number;
  netboxPrefixId: number;
  networkSiteId: string;
  networkSiteName: string;
  ipBlockId: string;
  cidr: string;
  description: string;
  netboxLastUpdated: string | null;
}

/**
 * The proof of ownership: a block is this integration's only while a row here names it.
 * Keyed by (instance, NetBox prefix id) — prefix ids, not CIDRs, are the identity.
 */
export class Ledger {
  constructor(private readonly db: Kysely<Database>) {}

  async forPrefixes(instanceId: number, prefixIds: number[]): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    for (let i = 0; i < prefixIds.length; i += 500) {
      const rows = await this.select(instanceId).where('netbox_prefix_id', 'in', prefixIds.slice(i, i + 500)).execute();
      entries.push(...rows.map(toEntry));
    }
    return entries;
  }

  async forNetworkSiteName(instanceId: number, networkSiteName: string): Promise<LedgerEntry[]> {
    const rows = await this.select(instanceId).where('network_site_name', '=', networkSiteName).execute();
    return rows.map(toEntry);
  }

  async forInstance(instanceId: number): Promise<LedgerEntry[]> {
    const rows = await this.select(instanceId).orderBy('netbox_prefix_id').execute();
    return rows.map(toEntry);
  }

  async upsert(entries: LedgerEntry[]): Promise<void> {
    const now = new Date().toISOString();
    for (let i = 0; i < entries.length; i += 200) {
      const rows = entries.slice(i, i + 200).map((e) => ({
        instance_id: e.instanceId,
        netbox_prefix_id: e.netboxPrefixId,
        network_site_id: e.networkSiteId,
        network_site_name: e.networkSiteName,
        ip_block_id: e.ipBlockId,
        cidr: e.cidr,
        description: e.description,
        netbox_last_updated: e.netboxLastUpdated,
        updated_at: now,
      }));
      await this.db
        .insertInto('prefix_block_ledger')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['instance_id', 'netbox_prefix_id']).doUpdateSet((eb) => ({
            network_site_id: eb.ref('excluded.network_site_id'),
            network_site_name: eb.ref('excluded.network_site_name'),
            ip_block_id: eb.ref('excluded.ip_block_id'),
            cidr: eb.ref('excluded.cidr'),
            description: eb.ref('excluded.description'),
            netbox_last_updated: eb.ref('excluded.netbox_last_updated'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
  }

  async remove(instanceId: number, prefixIds: number[]): Promise<void> {
    for (let i = 0; i < prefixIds.length; i += 500) {
      await this.db
        .deleteFrom('prefix_block_ledger')
        .where('instance_id', '=', instanceId)
        .where('netbox_prefix_id', 'in', prefixIds.slice(i, i + 500))
        .execute();
    }
  }

  /** Remembers prefixes NetBox no longer has, and forgets such records older than a week. */
  async recordDeletions(instanceId: number, prefixIds: number[], at: string): Promise<void> {
    const weekAgo = new Date(Date.parse(at) - 7 * 24 * 3600 * 1000).toISOString();
    await this.db.deleteFrom('deleted_prefixes').where('deleted_at', '<', weekAgo).execute();
    for (let i = 0; i < prefixIds.length; i += 300) {
      await this.db
        .insertInto('deleted_prefixes')
        .values(prefixIds.slice(i, i + 300).map((id) => ({ instance_id: instanceId, netbox_prefix_id: id, deleted_at: at })))
        .onConflict((oc) => oc.columns(['instance_id', 'netbox_prefix_id']).doUpdateSet({ deleted_at: at }))
        .execute();
    }
  }

  /** Which of these prefixes were seen deleted after `since`. */
  async deletedAfter(instanceId: number, prefixIds: number[], since: string): Promise<Set<number>> {
    const found = new Set<number>();
    for (let i = 0; i < prefixIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('deleted_prefixes')
        .select('netbox_prefix_id')
        .where('instance_id', '=', instanceId)
        .where('netbox_prefix_id', 'in', prefixIds.slice(i, i + 500))
        .where('deleted_at', '>', since)
        .execute();
      for (const r of rows) found.add(Number(r.netbox_prefix_id));
    }
    return found;
  }

  private select(instanceId: number) {
    return this.db.selectFrom('prefix_block_ledger').selectAll().where('instance_id', '=', instanceId);
  }
}

function toEntry(r: Selectable<PrefixBlockLedgerTable>): LedgerEntry {
  return {
    instanceId: Number(r.instance_id),
    netboxPrefixId: Number(r.netbox_prefix_id),
    networkSiteId: r.network_site_id,
    networkSiteName: r.network_site_name,
    ipBlockId: r.ip_block_id,
    cidr: r.cidr,
    description: r.description,
    netboxLastUpdated: r.netbox_last_updated,
  };
}
