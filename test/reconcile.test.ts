/**
 * Activity-level: the sync rules and the ledger, against the real SQLite store and the embedded gaiia target.
 * No NetBox and no Temporal here; prefixes are given in the normalized form the NetBox client produces.
 */
import { EmbeddedGaiia } from '../activities/gaiia/embedded';
import type { NetBoxPrefix } from '../activities/netbox/schemas';
import { reconcilePrefixes, type PrefixObservation, type ReconcileOptions } from '../activities/prefix-sync/reconcile';
import { closeDatabase, openDatabase, type StoreDb } from '../activities/store/db';
import { Ledger } from '../activities/store/ledger';

/** SQLite by default; TEST_DATABASE_URL=postgres://… runs the same rules against PostgreSQL. */
const databaseUrl = process.env.TEST_DATABASE_URL || 'sqlite::memory:';
let db: StoreDb;
let gaiia: EmbeddedGaiia;
let nyc: string;
let akron: string;

beforeAll(async () => {
  db = (await openDatabase(databaseUrl)).db;
  gaiia = new EmbeddedGaiia(db);
  await db.deleteFrom('netbox_instances').execute();
  await db.insertInto('netbox_instances').values([1, 2].map((id) => ({
    id, name: `i${id}`, base_url: 'http://x', token_encrypted: 'v1:a:b:c', prefix_sync_enabled: 1, role_filter: '[]', created_at: '', updated_at: '',
  }))).execute();
});

afterAll(async () => {
  await closeDatabase(databaseUrl);
});

beforeEach(async () => {
  await db.deleteFrom('deleted_prefixes').execute();
  await db.deleteFrom('prefix_block_ledger').execute();
  await db.deleteFrom('ip_blocks').execute();
  await db.deleteFrom('network_sites').execute();
  nyc = (await gaiia.createNetworkSite('DM-NYC')).id;
  akron = (await gaiia.createNetworkSite('DM-Akron')).id;
});

let nextId = 1;
function prefix(cidr: string, scope: NetBoxPrefix['scope'], extra: Partial<NetBoxPrefix> = {}): NetBoxPrefix {
  return { id: nextId++, cidr, description: '', roleId: null, scope, lastUpdated: '2024-01-01T00:00:00Z', ...extra };
}
const site = (siteName: string) => ({ kind: 'site' as const, siteId: 1, siteName });
const seen = (...ps: NetBoxPrefix[]): PrefixObservation[] => ps.map((p) => ({ prefixId: p.id, prefix: p }));
const gone = (...ps: NetBoxPrefix[]): PrefixObservation[] => ps.map((p) => ({ prefixId: p.id, prefix: null }));

function run(observations: PrefixObservation[], options: Partial<ReconcileOptions> = {}) {
  return db.transaction().execute((trx) =>
    reconcilePrefixes({ ledger: new Ledger(trx), target: new EmbeddedGaiia(trx) }, observations, {
      instanceId: 1, roleFilter: [], mode: 'additive', ...options,
    }),
  );
}
const blocks = async () => (await gaiia.listAllIpBlocks()).map((b) => `${b.networkSiteName} ${b.block} ${b.description}`.trim()).sort();

test('creates a block on the Network Site with the exact same name and skips the rest by reason', async () => {
  const counts = await run(seen(
    prefix('10.0.0.0/24', site('DM-NYC'), { description: 'lan' }),
    prefix('10.0.1.0/24', { kind: 'none' }),
    prefix('10.0.2.0/24', { kind: 'other', scopeType: 'dcim.location' }),
    prefix('10.0.3.0/24', site('dm-nyc')),
    prefix('10.0.4.0/24', site('DM-Nowhere')),
  ));
  expect(await blocks()).toEqual(['DM-NYC 10.0.0.0/24 lan']);
  expect(counts).toMatchObject({
    prefixes: 5, created: 1,
    skipped: { unscoped: 1, nonSiteScope: 1, noMatchingNetworkSite: 2, filteredByRole: 0, conflictingBlock: 0 },
    missingNetworkSites: ['dm-nyc', 'DM-Nowhere'],
  });
});

test('is idempotent: a second pass creates nothing and reports the blocks as present', async () => {
  const ps = seen(prefix('10.1.0.0/24', site('DM-NYC')), prefix('10.1.1.0/24', site('DM-Akron')));
  expect((await run(ps)).created).toBe(2);
  const again = await run(ps);
  expect(again).toMatchObject({ created: 0, alreadyPresent: 2, updated: 0 });
  expect(await blocks()).toHaveLength(2);
});

test('never adopts or changes a block made by hand with the same CIDR', async () => {
  const manual = await gaiia.addManualIpBlock('DM-NYC', { block: '10.2.0.0/24', description: 'by hand' });
  const p = prefix('10.2.0.0/24', site('DM-NYC'), { description: 'from netbox' });
  const counts = await run(seen(p));
  expect(counts.skipped.conflictingBlock).toBe(1);
  expect(counts.conflicts).toEqual([{ prefixId: p.id, cidr: '10.2.0.0/24', networkSite: 'DM-NYC' }]);
  expect(await blocks()).toEqual(['DM-NYC 10.2.0.0/24 by hand']);
  expect(await new Ledger(db).forInstance(1)).toEqual([]);
  // Even converge mode with the prefix gone leaves the manual block alone.
  await run(gone(p), { mode: 'converge' });
  expect((await gaiia.listAllIpBlocks()).map((b) => b.id)).toEqual([manual.id]);
});

test("another instance's block with the same CIDR is a conflict, not ours", async () => {
  await run(seen(prefix('10.3.0.0/24', site('DM-NYC'))), { instanceId: 2 });
  const counts = await run(seen(prefix('10.3.0.0/24', site('DM-NYC'))), { instanceId: 1 });
  expect(counts.skipped.conflictingBlock).toBe(1);
  expect(await new Ledger(db).forInstance(1)).toEqual([]);
});

test('role filter: prefixes without a role sync unless a filter is active', async () => {
  const none = prefix('10.4.0.0/24', site('DM-NYC'));
  const mgmt = prefix('10.4.1.0/24', site('DM-NYC'), { roleId: 4 });
  const data = prefix('10.4.2.0/24', site('DM-NYC'), { roleId: 1 });
  const filtered = await run(seen(none, mgmt, data), { roleFilter: [4] });
  expect(filtered).toMatchObject({ created: 1, skipped: { filteredByRole: 2 } });
  const unfiltered = await run(seen(none, mgmt, data));
  expect(unfiltered).toMatchObject({ created: 2, alreadyPresent: 1 });
});

test('additive mode removes nothing; converge mode removes our block when the prefix is gone', async () => {
  const p = prefix('10.5.0.0/24', site('DM-NYC'));
  await run(seen(p));
  expect(await run(gone(p))).toMatchObject({ removed: 0 });
  expect(await blocks()).toHaveLength(1);
  expect(await run(gone(p), { mode: 'converge' })).toMatchObject({ removed: 1 });
  expect(await blocks()).toEqual([]);
  expect(await new Ledger(db).forInstance(1)).toEqual([]);
});

test('updates our block in place when the CIDR or description changes', async () => {
  const p = prefix('10.6.0.0/24', site('DM-NYC'), { description: 'old' });
  await run(seen(p));
  const [before] = await gaiia.listAllIpBlocks();
  const counts = await run(seen({ ...p, cidr: '10.6.0.0/23', description: 'new' }));
  expect(counts.updated).toBe(1);
  const [after] = await gaiia.listAllIpBlocks();
  expect(after).toMatchObject({ id: before.id, block: '10.6.0.0/23', description: 'new' });
});

test('a move to another site: converge moves our block, additive leaves it and says why', async () => {
  const p = prefix('10.7.0.0/24', site('DM-NYC'));
  await run(seen(p));
  const moved = { ...p, scope: site('DM-Akron') };
  expect((await run(seen(moved))).skipped.ownBlockOnAnotherSite).toBe(1);
  expect(await blocks()).toEqual(['DM-NYC 10.7.0.0/24']);
  expect(await run(seen(moved), { mode: 'converge' })).toMatchObject({ removed: 1, created: 1 });
  expect(await blocks()).toEqual(['DM-Akron 10.7.0.0/24']);
  expect((await new Ledger(db).forInstance(1))[0].networkSiteId).toBe(akron);
});

test('our block deleted by hand in gaiia is created again', async () => {
  const p = prefix('10.8.0.0/24', site('DM-NYC'));
  await run(seen(p));
  await db.deleteFrom('ip_blocks').execute();
  expect(await run(seen(p))).toMatchObject({ created: 1 });
  expect(await blocks()).toEqual(['DM-NYC 10.8.0.0/24']);
});

test('two prefixes with the same CIDR on one site (different VRFs): the first wins, the second is a conflict', async () => {
  const counts = await run(seen(prefix('10.9.0.0/24', site('DM-NYC')), prefix('10.9.0.0/24', site('DM-NYC'))));
  expect(counts).toMatchObject({ created: 1, skipped: { conflictingBlock: 1 } });
  expect(nyc).toBeTruthy();
});

test('a CIDR freed by a move in the same batch can be reused', async () => {
  const a = prefix('10.10.0.0/24', site('DM-NYC'));
  await run(seen(a));
  const b = prefix('10.10.0.0/24', site('DM-NYC'));
  const counts = await run([...seen({ ...a, scope: site('DM-Akron') }), ...seen(b)], { mode: 'converge' });
  expect(counts).toMatchObject({ removed: 1, created: 2, skipped: { conflictingBlock: 0 } });
  expect(await blocks()).toEqual(['DM-Akron 10.10.0.0/24', 'DM-NYC 10.10.0.0/24']);
});

test('a prefix whose CIDR cannot be read is skipped and counted; the rest of its batch still applies', async () => {
  const good = prefix('10.11.0.0/24', site('DM-NYC'));
  const garbage = prefix('not-a-cidr', site('DM-NYC'));
  const v6 = prefix('2001:DB8:0::/48', site('DM-Akron'));
  for (const mode of ['additive', 'converge'] as const) {
    const counts = await run(seen(good, garbage, v6), { mode });
    expect(counts).toMatchObject({ prefixes: 3, skipped: { invalidPrefix: 1 } });
  }
  expect(await blocks()).toEqual(['DM-Akron 2001:db8::/48', 'DM-NYC 10.11.0.0/24']);

  // Ours, then NetBox hands back garbage for it: converge removes ours (NetBox no longer says where it goes).
  const counts = await run(seen({ ...good, cidr: '10.11.0.0/99' }), { mode: 'converge' });
  expect(counts).toMatchObject({ removed: 1, skipped: { invalidPrefix: 1 } });
  expect(await blocks()).toEqual(['DM-Akron 2001:db8::/48']);
});

describe('a full sync page read just before a real-time change never undoes it', () => {
  test('a prefix deleted after the page was read gets no block, whether or not it had one', async () => {
    const withBlock = prefix('10.11.0.0/24', site('DM-NYC'));
    const noBlockYet = prefix('10.11.1.0/24', site('DM-NYC'));
    await run(seen(withBlock));
    const pageReadAt = new Date(Date.now() - 1000).toISOString();
    // Real-time: NetBox says both are gone.
    expect(await run(gone(withBlock, noBlockYet), { mode: 'converge' })).toMatchObject({ removed: 1 });
    // The full sync applies its older page afterwards.
    const counts = await run(seen(withBlock, noBlockYet), { observedAt: pageReadAt });
    expect(counts).toMatchObject({ created: 0, skipped: { changedDuringSync: 2 } });
    expect(await blocks()).toEqual([]);
    // A page read after the delete (the prefix id came back in a restored NetBox, say) is applied normally.
    expect(await run(seen(noBlockYet), { observedAt: new Date(Date.now() + 1000).toISOString() })).toMatchObject({ created: 1 });
  });

  test('an older read of a prefix does not revert the block to what it was', async () => {
    const p = prefix('10.12.0.0/24', site('DM-NYC'), { description: 'new', lastUpdated: '2024-06-01T12:00:00.000000Z' });
    await run(seen(p), { mode: 'converge' });
    const stale = { ...p, description: 'old', lastUpdated: '2024-06-01T11:59:59.000000Z' };
    expect(await run(seen(stale))).toMatchObject({ updated: 0, skipped: { changedDuringSync: 1 } });
    expect(await blocks()).toEqual(['DM-NYC 10.12.0.0/24 new']);
    const newer = { ...p, description: 'newer', lastUpdated: '2024-06-01T12:00:01.000000Z' };
    expect(await run(seen(newer))).toMatchObject({ updated: 1 });
  });
});
