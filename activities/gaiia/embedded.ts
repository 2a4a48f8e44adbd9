import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import { canonicalCidr, GaiiaMutationError, type GaiiaTarget, type IpBlock, type IpBlockInput, type NetworkSite } from './target';

/** The id this integration stamps on blocks it adds (gaiia's `integrationId`). */
export const INTEGRATION_ID = 'netbox-prefix-sync';

/**
 * gaiia's Network Sites and IP Blocks kept in the project's own database: the embedded default that lets
 * the whole path run on one machine. Built on a Kysely handle, so it joins the caller's transaction.
 */
export class EmbeddedGaiia implements GaiiaTarget {
  constructor(private readonly db: Kysely<Database>) {}

  async findNetworkSitesByName(names: string[]): Promise<NetworkSite[]> {
    const unique = [...new Set(names)];
    const sites: NetworkSite[] = [];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.db
        .selectFrom('network_sites')
        .select(['id', 'name'])
        .where('name', 'in', unique.slice(i, i + 500))
        .where('archived_at', 'is', null)
        .execute();
      sites.push(...rows);
    }
    return sites;
  }

  async listIpBlocks(networkSiteIds: string[]): Promise<IpBlock[]> {
    const unique = [...new Set(networkSiteIds)];
    const blocks: IpBlock[] = [];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.db
        .selectFrom('ip_blocks')
        .select(['id', 'network_site_id as networkSiteId', 'block', 'description'])
        .where('network_site_id', 'in', unique.slice(i, i + 500))
        .execute();
      blocks.push(...rows);
    }
    return blocks;
  }

  async addIpBlocks(networkSiteId: string, blocks: IpBlockInput[]): Promise<IpBlock[]> {
    if (blocks.length === 0) return [];
    await this.requireSite(networkSiteId);
    const now = new Date().toISOString();
    const rows = blocks.map((b) => ({
      id: `ipb_${crypto.randomUUID()}`,
      network_site_id: networkSiteId,
      block: checkedBlock(b.block),
      description: b.description,
      integration_id: INTEGRATION_ID,
      created_at: now,
      updated_at: now,
    }));
    const seen = new Set<string>();
    for (const r of rows) {
      if (seen.has(r.block)) throw new GaiiaMutationError('BLOCK_ALREADY_EXISTS', `${r.block} is listed twice`);
      seen.add(r.block);
    }
    const taken = await this.db
      .selectFrom('ip_blocks')
      .select('block')
      .where('network_site_id', '=', networkSiteId)
      .where('block', 'in', [...seen])
      .executeTakeFirst();
    if (taken) throw new GaiiaMutationError('BLOCK_ALREADY_EXISTS', `${taken.block} already exists on site ${networkSiteId}`);
    for (let i = 0; i < rows.length; i += 500) {
      await this.db.insertInto('ip_blocks').values(rows.slice(i, i + 500)).execute();
    }
    return rows.map((r) => ({ id: r.id, networkSiteId, block: r.block, description: r.description }));
  }

  async updateIpBlock(id: string, input: IpBlockInput): Promise<IpBlock> {
    const current = await this.db.selectFrom('ip_blocks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!current) throw new GaiiaMutationError('NETWORK_SITE_IP_BLOCK_NOT_FOUND', `no IP Block ${id}`);
    const block = checkedBlock(input.block);
    if (block !== current.block) {
      const taken = await this.db
        .selectFrom('ip_blocks')
        .select('id')
        .where('network_site_id', '=', current.network_site_id)
        .where('block', '=', block)
        .executeTakeFirst();
      if (taken) throw new GaiiaMutationError('BLOCK_ALREADY_EXISTS', `${block} already exists on site ${current.network_site_id}`);
    }
    await this.db
      .updateTable('ip_blocks')
      .set({ block, description: input.description, updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .execute();
    return { id, networkSiteId: current.network_site_id, block, description: input.description };
  }

  async removeIpBlocks(networkSiteId: string, ipBlockIds: string[]): Promise<void> {
    await this.requireSite(networkSiteId);
    for (let i = 0; i < ipBlockIds.length; i += 500) {
      await this.db
        .deleteFrom('ip_blocks')
        .where('network_site_id', '=', networkSiteId)
        .where('id', 'in', ipBlockIds.slice(i, i + 500))
        .execute();
    }
  }

  // Administration of the embedded sites (gaiia users do this in gaiia itself).

  async createNetworkSite(name: string): Promise<NetworkSite> {
    const trimmed = name.trim();
    if (!trimmed) throw new GaiiaMutationError('INVALID_UPDATE', 'a Network Site needs a name');
    const existing = await this.db.selectFrom('network_sites').select(['id', 'name']).where('name', '=', trimmed).executeTakeFirst();
    if (existing) return existing;
    const site = { id: `ns_${crypto.randomUUID()}`, name: trimmed };
    await this.db.insertInto('network_sites').values({ ...site, archived_at: null, created_at: new Date().toISOString() }).execute();
    return site;
  }

  async listNetworkSites(): Promise<Array<NetworkSite & { archived: boolean; ipBlockCount: number }>> {
    const rows = await this.db
      .selectFrom('network_sites as s')
      .leftJoin('ip_blocks as b', 'b.network_site_id', 's.id')
      .select((eb) => ['s.id', 's.name', 's.archived_at', eb.fn.count<number>('b.id').as('ipBlockCount')])
      .groupBy(['s.id', 's.name', 's.archived_at'])
      .orderBy('s.name')
      .execute();
    return rows.map((r) => ({ id: r.id, name: r.name, archived: r.archived_at !== null, ipBlockCount: Number(r.ipBlockCount) }));
  }

  async listAllIpBlocks(): Promise<Array<IpBlock & { networkSiteName: string; integrationId: string | null }>> {
    return this.db
      .selectFrom('ip_blocks as b')
      .innerJoin('network_sites as s', 's.id', 'b.network_site_id')
      .select(['b.id', 'b.network_site_id as networkSiteId', 's.name as networkSiteName', 'b.block', 'b.description', 'b.integration_id as integrationId'])
      .orderBy('s.name')
      .orderBy('b.block')
      .execute();
  }

  /** Adds a block by hand, as a gaiia user would: not recorded as this integration's. */
  async addManualIpBlock(networkSiteName: string, input: IpBlockInput): Promise<IpBlock> {
    const [site] = await this.findNetworkSitesByName([networkSiteName]);
    if (!site) throw new GaiiaMutationError('NETWORK_SITE_NOT_FOUND', `no Network Site named '${networkSiteName}'`);
    const [added] = await this.addIpBlocks(site.id, [input]);
    await this.db.updateTable('ip_blocks').set({ integration_id: null }).where('id', '=', added.id).execute();
    return added;
  }

  private async requireSite(id: string): Promise<void> {
    const site = await this.db.selectFrom('network_sites').select('id').where('id', '=', id).executeTakeFirst();
    if (!site) throw new GaiiaMutationError('NETWORK_SITE_NOT_FOUND', `no Network Site ${id}`);
  }
}

function checkedBlock(block: string): string {
  const canonical = canonicalCidr(block);
  if (!canonical) throw new GaiiaMutationError('INVALID_IP_BLOCK', `'${block}' is not a CIDR block`);
  return canonical;
}
