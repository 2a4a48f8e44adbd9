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

  async findIpBlocks(query: { ids: string[]; placements: Array<{ networkSiteId: string; block: string }> }): Promise<IpBlock[]> {
    const found = new Map<string, IpBlock>();
    const columns = ['id', 'network_site_id as networkSiteId', 'block', 'description'] as const;
    const ids = [...new Set(query.ids)];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db.selectFrom('ip_blocks').select(columns).where('id', 'in', ids.slice(i, i + 500)).execute();
      for (const r of rows) found.set(r.id, r);
    }
    const placements = [...new Map(query.placements.map((p) => [`${p.networkSiteId} ${p.block}`, p])).values()];
    for (let i = 0; i < placements.length; i += 400) {
      const chunk = placements.slice(i, i + 400);
      const rows = await this.db
        .selectFrom('ip_blocks')
        .select(columns)
        .where((eb) => eb(eb.refTuple('network_site_id', 'block'), 'in', chunk.map((p) => eb.tuple(p.networkSiteId, p.block))))
        .execute();
      for (const r of rows) found.set(r.id, r);
    }
    return [...found.values()];
  }

  async addIpBlocks(additions: Array<{ networkSiteId: string; blocks: IpBlockInput[] }>): Promise<IpBlock[]> {
    const now = new Date().toISOString();
    const rows = additions.flatMap(({ networkSiteId, blocks }) =>
      blocks.map((b) => ({
        id: orderedId('ipb'),
        network_site_id: networkSiteId,
        block: checkedBlock(b.block),
        description: b.description,
        integration_id: INTEGRATION_ID,
        created_at: now,
        updated_at: now,
      })),
    );
    if (rows.length === 0) return [];
    await this.requireSites(additions.map((a) => a.networkSiteId));
    const seen = new Set<string>();
    for (const r of rows) {
      const key = `${r.network_site_id} ${r.block}`;
      if (seen.has(key)) throw new GaiiaMutationError('BLOCK_ALREADY_EXISTS', `${r.block} is listed twice for site ${r.network_site_id}`);
      seen.add(key);
    }
    const taken = await this.findIpBlocks({ ids: [], placements: rows.map((r) => ({ networkSiteId: r.network_site_id, block: r.block })) });
    if (taken.length) {
      throw new GaiiaMutationError('BLOCK_ALREADY_EXISTS', `${taken[0].block} already exists on site ${taken[0].networkSiteId}`);
    }
    // 7 columns a row: 100 rows stay far below SQLite's limit on bound parameters.
    for (let i = 0; i < rows.length; i += 100) {
      await this.db.insertInto('ip_blocks').values(rows.slice(i, i + 100)).execute();
    }
    return rows.map((r) => ({ id: r.id, networkSiteId: r.network_site_id, block: r.block, description: r.description }));
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

  async removeIpBlocks(removals: Array<{ networkSiteId: string; ipBlockIds: string[] }>): Promise<void> {
    await this.requireSites(removals.map((r) => r.networkSiteId));
    for (const { networkSiteId, ipBlockIds } of removals) {
      for (let i = 0; i < ipBlockIds.length; i += 500) {
        await this.db
          .deleteFrom('ip_blocks')
          .where('network_site_id', '=', networkSiteId)
          .where('id', 'in', ipBlockIds.slice(i, i + 500))
          .execute();
      }
    }
  }

  // Administration of the embedded sites (gaiia users do this in gaiia itself).

  async createNetworkSite(name: string): Promise<NetworkSite> {
    const trimmed = name.trim();
    if (!trimmed) throw new GaiiaMutationError('INVALID_UPDATE', 'a Network Site needs a name');
    const existing = await this.db.selectFrom('network_sites').select(['id', 'name']).where('name', '=', trimmed).executeTakeFirst();
    if (existing) return existing;
    const site = { id: orderedId('ns'), name: trimmed };
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
    const [added] = await this.addIpBlocks([{ networkSiteId: site.id, blocks: [input] }]);
    await this.db.updateTable('ip_blocks').set({ integration_id: null }).where('id', '=', added.id).execute();
    return added;
  }

  private async requireSites(ids: string[]): Promise<void> {
    const wanted = [...new Set(ids)];
    for (let i = 0; i < wanted.length; i += 500) {
      const chunk = wanted.slice(i, i + 500);
      const found = new Set((await this.db.selectFrom('network_sites').select('id').where('id', 'in', chunk).execute()).map((r) => r.id));
      const missing = chunk.find((id) => !found.has(id));
      if (missing) throw new GaiiaMutationError('NETWORK_SITE_NOT_FOUND', `no Network Site ${missing}`);
    }
  }
}

let lastMs = 0;
let sequence = 0;
/**
 * Opaque ids that sort by creation time: inserts append to the end of the primary-key index instead of
 * landing on random pages, which keeps each transaction's write set (and commit) small.
 */
function orderedId(prefix: string): string {
  const now = Date.now();
  sequence = now === lastMs ? sequence + 1 : 0;
  lastMs = now;
  return `${prefix}_${now.toString(36).padStart(9, '0')}${sequence.toString(36).padStart(4, '0')}${crypto.randomBytes(5).toString('hex')}`;
}

function checkedBlock(block: string): string {
  const canonical = canonicalCidr(block);
  if (!canonical) throw new GaiiaMutationError('INVALID_IP_BLOCK', `'${block}' is not a CIDR block`);
  return canonical;
}
