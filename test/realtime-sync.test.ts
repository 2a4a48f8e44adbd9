/**
 * Real-time sync end to end, one test per documented case: the NetBox stand-in (4.2 unless a test names another
 * version) changes prefixes and fires signed webhooks at the receiver exactly as NetBox would; the receiver signals
 * the instance's workflow on a real Temporal dev server; the worker writes the embedded gaiia target.
 * Each test has its own stand-in, instance and Network Site names (tagged), so tests never see each other's blocks.
 */
import { importNetworkSitePrefixes, netboxChangesSignal, realtimeWorkflowId } from '../workflows/importNetworkSitePrefixes';
import { RealtimeHarness, expectedBlocks } from './support/realtime';

let h: RealtimeHarness;

beforeAll(async () => {
  h = await RealtimeHarness.start();
}, 120_000);

afterAll(async () => {
  await h?.close();
});

/** A stand-in with sites `<tag>-A`, `<tag>-B`, `<tag>-NoSuchNetworkSite`, and Network Sites for the first two. */
async function setup(tag: string, options: { version?: string; roleFilter?: number[]; deliveries?: 'immediate' | 'manual' } = {}) {
  const { nb, instanceId } = await h.addInstance({ version: options.version ?? '4.2', roleFilter: options.roleFilter, deliveries: options.deliveries });
  const site = (name: string) => nb.createSite({ name: `${tag}-${name}`, slug: `${tag}-${name}`.toLowerCase() });
  const a = site('A');
  const b = site('B');
  const missing = site('NoSuchNetworkSite');
  await h.addNetworkSites(`${tag}-A`, `${tag}-B`);
  return { nb, instanceId, a, b, missing, networkSites: [`${tag}-A`, `${tag}-B`] };
}

test('prefix created → an IP Block on the Network Site with the same name', async () => {
  const { nb, instanceId, a } = await setup('created');
  nb.createPrefix({ prefix: '10.1.0.0/24', siteId: a.id, description: 'access' });
  const status = await h.settle(nb, instanceId);
  expect(await h.blocks('created')).toEqual(['created-A 10.1.0.0/24 access']);
  expect(status?.counts).toMatchObject({ created: 1 });
});

test('prefix created on a site with no Network Site of that name → skipped and counted, not an error', async () => {
  const { nb, instanceId, missing } = await setup('nosite');
  nb.createPrefix({ prefix: '10.2.0.0/24', siteId: missing.id });
  const status = await h.settle(nb, instanceId);
  expect(await h.blocks('nosite')).toEqual([]);
  expect(status?.counts.skipped.noMatchingNetworkSite).toBe(1);
  expect(status?.counts.missingNetworkSites).toEqual(['nosite-NoSuchNetworkSite']);
  expect(status?.failedBatches).toBe(0);
});

test('prefix updated: a CIDR or description change updates our block in place', async () => {
  const { nb, instanceId, a } = await setup('inplace');
  const p = nb.createPrefix({ prefix: '10.3.0.0/24', siteId: a.id, description: 'old' });
  await h.settle(nb, instanceId);
  const [before] = (await h.connections.gaiia.listAllIpBlocks()).filter((b) => b.networkSiteName === 'inplace-A');
  nb.updatePrefix(p.id, { prefix: '10.3.0.0/23', description: 'new' });
  await h.settle(nb, instanceId);
  const [after] = (await h.connections.gaiia.listAllIpBlocks()).filter((b) => b.networkSiteName === 'inplace-A');
  expect(after).toMatchObject({ id: before.id, block: '10.3.0.0/23', description: 'new' });
});

test('prefix moved to another site: ours leaves the old Network Site and appears on the new one', async () => {
  const { nb, instanceId, a, b } = await setup('moved');
  const p = nb.createPrefix({ prefix: '10.4.0.0/24', siteId: a.id });
  await h.settle(nb, instanceId);
  nb.updatePrefix(p.id, { siteId: b.id });
  await h.settle(nb, instanceId);
  expect(await h.blocks('moved')).toEqual(['moved-B 10.4.0.0/24']);
});

test('prefix moved off any site, or to a non-site scope: our block is removed', async () => {
  const { nb, instanceId, a } = await setup('offsite');
  const now = new Date();
  nb.dataset.regions.load([
    { id: 1, name: 'offsite region', slug: 'offsite-region', description: '', parentId: null, level: 0, created: now, lastUpdated: now, customFieldData: {}, tags: [] },
  ]);
  const unscoped = nb.createPrefix({ prefix: '10.5.1.0/24', siteId: a.id });
  const regional = nb.createPrefix({ prefix: '10.5.2.0/24', siteId: a.id });
  await h.settle(nb, instanceId);
  expect(await h.blocks('offsite')).toEqual(['offsite-A 10.5.1.0/24', 'offsite-A 10.5.2.0/24']);
  nb.updatePrefix(unscoped.id, { scope: null });
  nb.updatePrefix(regional.id, { scope: { type: 'dcim.region', id: 1 } });
  const status = await h.settle(nb, instanceId);
  expect(await h.blocks('offsite')).toEqual([]);
  expect(status?.counts).toMatchObject({ removed: 2 });
});

test('role filter: a prefix that stops qualifying loses our block, one that starts qualifying gains one', async () => {
  // Roles are created first so their ids are known before the filter is set.
  const { nb, instanceId, a } = await setup('roles');
  const access = nb.createRole({ name: 'Access', slug: 'access' });
  const mgmt = nb.createRole({ name: 'Management', slug: 'management' });
  await h.connections.instances.setPrefixSync(instanceId, true, [access.id]);
  const leaving = nb.createPrefix({ prefix: '10.6.1.0/24', siteId: a.id, roleId: access.id });
  const joining = nb.createPrefix({ prefix: '10.6.2.0/24', siteId: a.id, roleId: mgmt.id });
  nb.createPrefix({ prefix: '10.6.3.0/24', siteId: a.id });
  await h.settle(nb, instanceId);
  expect(await h.blocks('roles')).toEqual(['roles-A 10.6.1.0/24']);
  nb.updatePrefix(leaving.id, { roleId: mgmt.id });
  nb.updatePrefix(joining.id, { roleId: access.id });
  await h.settle(nb, instanceId);
  expect(await h.blocks('roles')).toEqual(['roles-A 10.6.2.0/24']);
});

test('prefix deleted → only the block this integration created for that prefix is removed', async () => {
  const { nb, instanceId, a } = await setup('deleted');
  const manual = await h.connections.gaiia.addManualIpBlock('deleted-A', { block: '10.7.1.0/24', description: 'by hand' });
  const clash = nb.createPrefix({ prefix: '10.7.1.0/24', siteId: a.id, description: 'netbox' });
  const ours = nb.createPrefix({ prefix: '10.7.2.0/24', siteId: a.id });
  const kept = nb.createPrefix({ prefix: '10.7.3.0/24', siteId: a.id });
  const created = await h.settle(nb, instanceId);
  expect(created?.counts.skipped.conflictingBlock).toBe(1);
  nb.deletePrefix(clash.id);
  nb.deletePrefix(ours.id);
  await h.settle(nb, instanceId);
  expect(await h.blocks('deleted')).toEqual(['deleted-A 10.7.1.0/24 by hand', 'deleted-A 10.7.3.0/24']);
  expect((await h.connections.gaiia.listAllIpBlocks()).find((b) => b.id === manual.id)).toMatchObject({ description: 'by hand' });
  expect(kept.id).toBeGreaterThan(0);
});

test('site deleted (4.2 cascade) → every block this instance created on that Network Site is removed, nothing else', async () => {
  const { nb, instanceId, a, b } = await setup('cascade');
  await h.connections.gaiia.addManualIpBlock('cascade-A', { block: '192.0.2.0/24', description: 'by hand' });
  nb.createPrefix({ prefix: '10.8.1.0/24', siteId: a.id });
  nb.createPrefix({ prefix: '10.8.2.0/24', siteId: a.id });
  nb.createPrefix({ prefix: '10.8.3.0/24', siteId: b.id });
  await h.settle(nb, instanceId);
  nb.deleteSite(a.id);
  await h.settle(nb, instanceId);
  const kinds = nb.deliveryLog.slice(-3).map((r) => `${r.objectType} ${r.event}`);
  expect(kinds.sort()).toEqual(['dcim.site deleted', 'ipam.prefix deleted', 'ipam.prefix deleted']);
  expect(await h.blocks('cascade')).toEqual(['cascade-A 192.0.2.0/24 by hand', 'cascade-B 10.8.3.0/24']);
});

test('site deleted (4.2 cascade) converges from the site event alone when the prefix events are lost', async () => {
  const { nb, instanceId, a } = await setup('siteonly', { deliveries: 'manual' });
  nb.createPrefix({ prefix: '10.9.1.0/24', siteId: a.id });
  nb.createPrefix({ prefix: '10.9.2.0/24', siteId: a.id });
  await nb.deliver();
  await h.settle(nb, instanceId);
  expect(await h.blocks('siteonly')).toHaveLength(2);
  nb.deleteSite(a.id);
  for (const d of nb.pendingDeliveries().filter((d) => d.objectType === 'ipam.prefix')) nb.dropDelivery(d.id);
  await nb.deliver();
  await h.settle(nb, instanceId);
  expect(await h.blocks('siteonly')).toEqual([]);
});

test('site deleted (4.1 PROTECT): NetBox refuses until its prefixes move or go; then everything converges, in any order', async () => {
  const { nb, instanceId, a, b } = await setup('protect', { version: '4.1', deliveries: 'manual' });
  const moving = nb.createPrefix({ prefix: '10.10.1.0/24', siteId: a.id });
  const going = nb.createPrefix({ prefix: '10.10.2.0/24', siteId: a.id });
  await nb.deliver();
  await h.settle(nb, instanceId);
  expect(await h.blocks('protect')).toEqual(['protect-A 10.10.1.0/24', 'protect-A 10.10.2.0/24']);
  expect(() => nb.deleteSite(a.id)).toThrow(/409/);
  nb.updatePrefix(moving.id, { siteId: b.id });
  nb.deletePrefix(going.id);
  nb.deleteSite(a.id);
  // The site's event first, then the prefix events in reverse: the order NetBox's workers might deliver them.
  const pending = nb.pendingDeliveries().reverse();
  await nb.deliver(pending.map((d) => d.id));
  await h.settle(nb, instanceId);
  expect(await h.blocks('protect')).toEqual(['protect-B 10.10.1.0/24']);
  expect(await h.blocks('protect')).toEqual(expectedBlocks(nb, ['protect-A', 'protect-B']));
});

test('NetBox 4.7 payloads (object_type and request, no model/username/request_id) are applied', async () => {
  const { nb, instanceId, a, b } = await setup('v47', { version: '4.7' });
  const p = nb.createPrefix({ prefix: '10.11.0.0/24', siteId: a.id });
  await h.settle(nb, instanceId);
  const body = JSON.parse(nb.deliveryLog[0].body) as Record<string, unknown>;
  expect(body).toMatchObject({ object_type: 'ipam.prefix', request: expect.any(Object) });
  expect(body).not.toHaveProperty('model');
  expect(body).not.toHaveProperty('username');
  nb.updatePrefix(p.id, { siteId: b.id, description: 'moved' });
  await h.settle(nb, instanceId);
  expect(await h.blocks('v47')).toEqual(['v47-B 10.11.0.0/24 moved']);
  nb.deletePrefix(p.id);
  await h.settle(nb, instanceId);
  expect(await h.blocks('v47')).toEqual([]);
});

test('a manual block is never touched, whatever happens to a prefix with the same CIDR', async () => {
  const { nb, instanceId, a, b } = await setup('manual');
  const manual = await h.connections.gaiia.addManualIpBlock('manual-A', { block: '10.12.0.0/24', description: 'by hand' });
  const p = nb.createPrefix({ prefix: '10.12.0.0/24', siteId: b.id, description: 'netbox' });
  await h.settle(nb, instanceId);
  nb.updatePrefix(p.id, { siteId: a.id });
  await h.settle(nb, instanceId);
  nb.updatePrefix(p.id, { description: 'edited' });
  await h.settle(nb, instanceId);
  nb.deletePrefix(p.id);
  await h.settle(nb, instanceId);
  expect(await h.blocks('manual')).toEqual(['manual-A 10.12.0.0/24 by hand']);
  expect((await h.connections.gaiia.listAllIpBlocks()).filter((x) => x.id === manual.id)).toHaveLength(1);
});

test('prefix sync disabled while events are queued → they are dropped and counted, not retried forever', async () => {
  const { nb, instanceId, a } = await setup('disabled', { deliveries: 'manual' });
  const first = nb.createPrefix({ prefix: '10.13.1.0/24', siteId: a.id });
  nb.createPrefix({ prefix: '10.13.2.0/24', siteId: a.id });
  nb.createPrefix({ prefix: '10.13.3.0/24', siteId: a.id });
  const [d1, ...rest] = nb.pendingDeliveries();
  expect(d1.objectId).toBe(first.id);
  // Hold the first batch in NetBox for a moment, so the next events queue up behind it.
  nb.faults.delayNext(1500, 1, '/api/ipam/prefixes/');
  await nb.deliver([d1.id]);
  for (let s = await h.status(instanceId); !s || s.applying === 0; s = await h.status(instanceId)) await new Promise((r) => setTimeout(r, 20));
  await nb.deliver(rest.map((d) => d.id));
  await h.connections.instances.setPrefixSync(instanceId, false);
  const status = await h.settle(nb, instanceId);
  expect(status).toMatchObject({ dropped: 2, failedBatches: 0 });
  expect(await h.blocks('disabled')).toEqual(['disabled-A 10.13.1.0/24']);
});

test('NetBox refusing the token parks the changes, not drops them: the next batch that works applies them too', async () => {
  const { nb, instanceId, a } = await setup('parked');
  nb.faults.failNext(1, 401, '/api/ipam/prefixes/');
  nb.createPrefix({ prefix: '10.14.1.0/24', siteId: a.id });
  const refused = await h.settle(nb, instanceId);
  expect(refused).toMatchObject({ failedBatches: 1, parked: 1 });
  expect(refused?.lastFailure).toMatch(/401|token/i);
  expect(await h.blocks('parked')).toEqual([]);
  // The token works again (say, the operator updated it): the next webhook's batch brings the parked one back.
  nb.createPrefix({ prefix: '10.14.2.0/24', siteId: a.id });
  await h.settle(nb, instanceId);
  const recovered = await h.waitForStatus(instanceId, (s) => s.parked + s.pendingPrefixes + s.applying === 0);
  expect(await h.blocks('parked')).toEqual(['parked-A 10.14.1.0/24', 'parked-A 10.14.2.0/24']);
  expect(recovered).toMatchObject({ failedBatches: 1, parked: 0 });
});

test('a batch NetBox rejects is split in halves, so one refused read does not hold back the changes beside it', async () => {
  const { nb, instanceId, a } = await setup('split', { deliveries: 'manual' });
  const p1 = nb.createPrefix({ prefix: '10.15.1.0/24', siteId: a.id });
  const p2 = nb.createPrefix({ prefix: '10.15.2.0/24', siteId: a.id });
  nb.faults.failNext(1, 400, '/api/ipam/prefixes/');
  // Both changes in one signal, so they form one batch (webhooks could be taken one at a time).
  const timestamp = new Date().toISOString();
  await h.env.client.workflow.signalWithStart(importNetworkSitePrefixes, {
    workflowId: realtimeWorkflowId(instanceId, h.config.temporal.taskQueue),
    taskQueue: h.config.temporal.taskQueue,
    args: [{ instanceId }],
    signal: netboxChangesSignal,
    signalArgs: [[p1, p2].map((p) => ({ objectType: 'prefix' as const, objectId: p.id, event: 'created' as const, timestamp }))],
  });
  const status = await h.waitForStatus(instanceId, (s) => s.batches + s.failedBatches >= 2);
  expect(await h.blocks('split')).toEqual(['split-A 10.15.1.0/24', 'split-A 10.15.2.0/24']);
  expect(status).toMatchObject({ batches: 2, failedBatches: 0, parked: 0 });
});
