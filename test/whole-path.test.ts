/**
 * The whole path, as an operator runs it: the product's own stack (worker + receiver), prefix sync enabled
 * through the client (which registers the webhook in NetBox with the lifecycle workflow), a full sync of
 * NetBox's 4.2 demo data, then changes made in NetBox reaching gaiia through signed webhooks, and finally
 * sync disabled (webhook removed, changes no longer flow).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PrefixSyncClient } from '../client/prefix-sync-client';
import { startStack, type RunningStack } from '../client/stack';
import { loadDemoDataset, startNetBoxStandIn, type NetBoxStandIn } from './netbox-standin';
import { testConfig } from './support/config';
import { startTemporal } from './support/temporal';
import { expectedBlocks } from './support/realtime';
import { eventually, freePort } from './support/waiting';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let netbox: NetBoxStandIn;
let stack: RunningStack;
let client: PrefixSyncClient;
let receiverUrl: string;

const blocksOn = async (site: string) =>
  (await client.listIpBlocks()).filter((b) => b.networkSiteName === site).map((b) => `${b.block} ${b.description}`.trim()).sort();

beforeAll(async () => {
  env = await startTemporal();
  netbox = await startNetBoxStandIn({ version: '4.2', dataset: loadDemoDataset('4.2') });
  const base = testConfig();
  const port = await freePort();
  receiverUrl = `http://127.0.0.1:${port}`;
  const config = { ...base, receiver: { host: '127.0.0.1', port, publicUrl: receiverUrl } };
  stack = await startStack(config, { temporalAddress: env.address, log: () => {} });
  client = await PrefixSyncClient.open(config, { temporalAddress: env.address });
  for (const site of netbox.dataset.sites.all()) await client.addNetworkSite(site.name);
});

afterAll(async () => {
  await client?.close();
  await stack?.stop();
  await netbox?.close();
  await env?.teardown();
});

test('enable → full sync → NetBox changes arrive through signed webhooks → disable stops them', async () => {
  const instance = await client.addInstance({ baseUrl: netbox.url, token: netbox.token });
  await client.setPrefixSync('Default', true);

  // Enabling registered our webhook (with a secret) and event rules in NetBox, pointing at the receiver.
  const webhooks = netbox.dataset.webhooks.all();
  expect(webhooks).toHaveLength(1);
  expect(webhooks[0].payloadUrl).toBe(`${receiverUrl}/webhooks/netbox?instanceId=${instance.id}`);
  expect(webhooks[0].secret).toMatch(/^[0-9a-f]{32,}$/);
  expect(netbox.dataset.eventRules.all().length).toBeGreaterThanOrEqual(2);

  const report = await client.runFullSync('Default');
  expect(report.created).toBe(65);
  const akron = netbox.dataset.sites.all().find((s) => s.name === 'DM-Akron')!;
  const before = await blocksOn('DM-Akron');

  // Created in NetBox → a new IP Block on the Network Site of the same name.
  const created = netbox.createPrefix({ prefix: '10.250.0.0/24', siteId: akron.id, description: 'new in NetBox' });
  await eventually(() => blocksOn('DM-Akron'), (b) => b.includes('10.250.0.0/24 new in NetBox'), 'the created prefix');

  // Edited → the same block updated in place.
  const [blockBefore] = (await client.listIpBlocks()).filter((b) => b.block === '10.250.0.0/24');
  netbox.updatePrefix(created.id, { prefix: '10.250.1.0/24', description: 'edited' });
  await eventually(() => blocksOn('DM-Akron'), (b) => b.includes('10.250.1.0/24 edited') && !b.some((x) => x.startsWith('10.250.0.0/24')), 'the edit');
  expect((await client.listIpBlocks()).find((b) => b.block === '10.250.1.0/24')!.id).toBe(blockBefore.id);

  // Deleted → our block removed; the rest of the site untouched.
  netbox.deletePrefix(created.id);
  await eventually(() => blocksOn('DM-Akron'), (b) => JSON.stringify(b) === JSON.stringify(before), 'the delete');

  // Disabling removes our webhook from NetBox; later changes no longer reach gaiia.
  await client.setPrefixSync('Default', false);
  expect(netbox.dataset.webhooks.all()).toHaveLength(0);
  expect(netbox.dataset.eventRules.all()).toHaveLength(0);
  netbox.createPrefix({ prefix: '10.251.0.0/24', siteId: akron.id });
  await netbox.flushDeliveries();
  await new Promise((r) => setTimeout(r, 500));
  expect(await blocksOn('DM-Akron')).toEqual(before);
});

test('two deployments sharing one Temporal namespace (own task queue and store each) never steal each other’s events', async () => {
  const deployments = [];
  for (let i = 0; i < 2; i++) {
    const nb = await startNetBoxStandIn({ version: '4.2', dataset: loadDemoDataset('4.2') });
    const port = await freePort();
    const config = { ...testConfig(), receiver: { host: '127.0.0.1', port, publicUrl: `http://127.0.0.1:${port}` } };
    const s = await startStack(config, { temporalAddress: env.address, log: () => {} });
    const c = await PrefixSyncClient.open(config, { temporalAddress: env.address });
    await c.addNetworkSite('DM-Akron');
    const instance = await c.addInstance({ baseUrl: nb.url, token: nb.token });
    await c.setPrefixSync('Default', true);
    deployments.push({ nb, stack: s, client: c, instanceId: instance.id });
  }
  try {
    // Both stores number their first instance 1; each NetBox change must reach its own deployment.
    expect(deployments.map((d) => d.instanceId)).toEqual([1, 1]);
    for (const [i, d] of deployments.entries()) {
      const akron = d.nb.dataset.sites.all().find((s) => s.name === 'DM-Akron')!;
      d.nb.createPrefix({ prefix: `10.99.${i}.0/24`, siteId: akron.id });
    }
    for (const [i, d] of deployments.entries()) {
      await eventually(async () => (await d.client.listIpBlocks()).map((b) => b.block), (b) => b.includes(`10.99.${i}.0/24`), `deployment ${i}'s block`);
    }
  } finally {
    for (const d of deployments) {
      await d.client.close();
      await d.stack.stop();
      await d.nb.close();
    }
  }
});

test('webhooks lost (receiver down): a full sync adds what is missing, reconcile removes and moves the rest', async () => {
  const nb = await startNetBoxStandIn({ version: '4.2', dataset: loadDemoDataset('4.2'), deliveries: 'manual' });
  const port = await freePort();
  const config = { ...testConfig(), receiver: { host: '127.0.0.1', port, publicUrl: `http://127.0.0.1:${port}` } };
  const s = await startStack(config, { temporalAddress: env.address, log: () => {} });
  const c = await PrefixSyncClient.open(config, { temporalAddress: env.address });
  try {
    const networkSites = nb.dataset.sites.all().map((site) => site.name);
    for (const name of networkSites) await c.addNetworkSite(name);
    await c.addInstance({ baseUrl: nb.url, token: nb.token });
    await c.setPrefixSync('Default', true);
    await c.runFullSync('Default');
    const current = async () => (await c.listIpBlocks()).map((b) => `${b.networkSiteName} ${b.block} ${b.description}`.trim()).sort();
    expect(await current()).toEqual(expectedBlocks(nb, networkSites));

    // While the receiver is down NetBox's deliveries fail, and NetBox does not retry them.
    const [akron, utica] = ['DM-Akron', 'DM-Utica'].map((n) => nb.dataset.sites.all().find((x) => x.name === n)!);
    const onAkron = nb.dataset.prefixes.all().filter((p) => p.scopeType === 'dcim.site' && p.scopeId === akron.id);
    nb.deletePrefix(onAkron[0].id);
    nb.updatePrefix(onAkron[1].id, { siteId: utica.id, description: 'moved while nobody listened' });
    nb.createPrefix({ prefix: '10.252.0.0/24', siteId: akron.id, description: 'created while nobody listened' });
    for (const d of nb.pendingDeliveries()) nb.dropDelivery(d.id);

    const full = await c.runFullSync('Default');
    expect(full).toMatchObject({ created: 1, removed: 0 });
    expect(await current()).not.toEqual(expectedBlocks(nb, networkSites));

    const tracked = (await current()).length;
    const report = await c.reconcile('Default');
    // The deleted prefix's block goes; the moved one's leaves DM-Akron (removed) for DM-Utica (created).
    expect(report).toMatchObject({ instanceName: 'Default', removed: 2, created: 1, parked: 0 });
    expect(report.prefixesReread).toBe(tracked);
    expect(await current()).toEqual(expectedBlocks(nb, networkSites));

    await c.setPrefixSync('Default', false);
    await expect(c.reconcile('Default')).rejects.toThrow(/prefix sync disabled; enable it before reconciling its IP Blocks/);
  } finally {
    await c.close();
    await s.stop();
    await nb.close();
  }
});
