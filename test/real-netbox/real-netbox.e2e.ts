/**
 * The product against a real NetBox (the PyPI release that scripts/real-netbox/ installs, loaded with NetBox's
 * 4.2 demo data migrated to it): `npm run test:real-netbox` sets that NetBox up, starts it and runs this file.
 * The stack is the product's own (worker + receiver on a real Temporal dev server); NetBox's own RQ worker
 * delivers the webhooks, and every change is made through NetBox's REST API, as an operator's tooling would.
 * Nothing here reads our stand-in: what NetBox's API lists is the truth the IP Blocks are compared with.
 */
import axios, { type AxiosInstance } from 'axios';
import http from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PrefixSyncClient } from '../../client/prefix-sync-client';
import { startStack, type RunningStack } from '../../client/stack';
import { testConfig } from '../support/config';
import { startTemporal } from '../support/temporal';
import { eventually, freePort } from '../support/waiting';

jest.setTimeout(300_000);

const NETBOX_URL = process.env.NETBOX_URL ?? '';
const TOKENS = { v1: process.env.NETBOX_TOKEN ?? '', v2: process.env.NETBOX_TOKEN_V2 ?? '' };
if (!NETBOX_URL || !TOKENS.v1 || !TOKENS.v2) {
  throw new Error('NETBOX_URL, NETBOX_TOKEN and NETBOX_TOKEN_V2 are not set: run this suite with `npm run test:real-netbox`');
}

interface NbSite { id: number; name: string; slug: string }
interface NbPrefix {
  id: number;
  prefix: string;
  description: string;
  scope_type: string | null;
  scope: { name?: string } | null;
  role: { id: number } | null;
}
interface NbTracked { id: number; name: string; payload_url?: string; action_object_id?: number; object_types?: string[]; custom_fields?: Record<string, unknown> }

let env: TestWorkflowEnvironment;
let stack: RunningStack;
let client: PrefixSyncClient;
let receiverUrl: string;
let instanceId: number;
let api: AxiosInstance;
let sites: NbSite[];
/** Demo sites given a Network Site: all but the last, so one is reported as having none. */
let networkSites: string[];
const runTag = `e2e-${Date.now().toString(36)}`;

/** Every object of a NetBox list endpoint, following NetBox's own pagination. */
async function listAll<T>(path: string, params: Record<string, string | number> = {}): Promise<T[]> {
  const out: T[] = [];
  for (let offset = 0; ; ) {
    const res = await api.get<{ count: number; results: T[] }>(path, { params: { ...params, limit: 200, offset, ordering: 'id' } });
    out.push(...res.data.results);
    offset += res.data.results.length;
    if (res.data.results.length === 0 || offset >= res.data.count) return out;
  }
}

/** What the IP Blocks must be, from NetBox's API alone: site-scoped prefixes on a site that has a Network Site. */
async function expectedBlocks(roleFilter: number[] = []): Promise<string[]> {
  const blocks = new Map<string, string>();
  for (const p of await listAll<NbPrefix>('/api/ipam/prefixes/')) {
    if (p.scope_type !== 'dcim.site' || !p.scope?.name || !networkSites.includes(p.scope.name)) continue;
    if (roleFilter.length > 0 && (p.role === null || !roleFilter.includes(p.role.id))) continue;
    // One block per CIDR on a Network Site: the same CIDR again (another VRF) is a conflict, the lowest id wins.
    const key = `${p.scope.name} ${p.prefix}`;
    if (!blocks.has(key)) blocks.set(key, `${key} ${p.description}`.trim());
  }
  return [...blocks.values()].sort();
}

/** Blocks made by hand in gaiia during the run: never ours, so left out of what is compared with NetBox. */
const manualBlocks = new Set<string>();

async function ourBlocks(): Promise<string[]> {
  return (await client.listIpBlocks())
    .map((b) => `${b.networkSiteName} ${b.block} ${b.description}`.trim())
    .filter((b) => !manualBlocks.has(b))
    .sort();
}

async function blocksOn(site: string): Promise<string[]> {
  return (await client.listIpBlocks()).filter((b) => b.networkSiteName === site).map((b) => `${b.block} ${b.description}`.trim()).sort();
}

/** NetBox's RQ worker delivers after the commit, about a second here: 30 s leaves room for a loaded machine. */
const arrives = <T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string) => eventually(read, ok, what, 30_000);

/** Our objects in NetBox: those carrying the tracking custom fields, plus the fields themselves. */
async function ourNetBoxObjects() {
  const tracked = (o: NbTracked) => Object.values(o.custom_fields ?? {}).some((v) => v !== null && v !== '');
  const webhooks = (await listAll<NbTracked>('/api/extras/webhooks/')).filter(tracked);
  const eventRules = (await listAll<NbTracked>('/api/extras/event-rules/')).filter(tracked);
  const customFields = (await listAll<NbTracked>('/api/extras/custom-fields/')).filter((f) => f.name.startsWith('gaiia_'));
  return { webhooks, eventRules, customFields };
}

beforeAll(async () => {
  api = axios.create({
    baseURL: NETBOX_URL,
    headers: { Authorization: `Bearer ${TOKENS.v2}`, Accept: 'application/json' },
    timeout: 30_000,
    // gunicorn closes idle keep-alive connections after 2 s; a request on one it just closed fails with "socket
    // hang up" (the product's NetBox client retries that; this helper simply opens a connection per request).
    httpAgent: new http.Agent({ keepAlive: false }),
  });
  const before = await ourNetBoxObjects();
  if (before.webhooks.length + before.eventRules.length + before.customFields.length > 0) {
    throw new Error(`NetBox at ${NETBOX_URL} still holds objects of an earlier run: reset it with scripts/real-netbox/setup.sh --reset-db`);
  }
  env = await startTemporal();
  const port = await freePort();
  receiverUrl = `http://127.0.0.1:${port}`;
  const config = { ...testConfig(), receiver: { host: '127.0.0.1', port, publicUrl: receiverUrl } };
  stack = await startStack(config, { temporalAddress: env.address, log: () => {} });
  client = await PrefixSyncClient.open(config, { temporalAddress: env.address });
  sites = await listAll<NbSite>('/api/dcim/sites/');
  networkSites = sites.slice(0, -1).map((s) => s.name);
  for (const name of networkSites) await client.addNetworkSite(name);
});

afterAll(async () => {
  await client?.close();
  await stack?.stop();
  await env?.teardown();
});

// The tests run in order and build on each other, as an operator's session would.

test('adding the instance checks the URL and token against NetBox; a wrong token is refused and nothing is saved', async () => {
  await expect(client.addInstance({ name: 'Wrong', baseUrl: NETBOX_URL, token: `nbt_${'x'.repeat(12)}.${'y'.repeat(40)}` })).rejects.toThrow(
    /token/i,
  );
  expect(await client.listInstances()).toEqual([]);
  // The v1 token is accepted too (4.7 still takes `Token <40 hex>`); that instance is removed again.
  await client.addInstance({ name: 'V1', baseUrl: NETBOX_URL, token: TOKENS.v1 });
  await client.removeInstance('V1');
  const instance = await client.addInstance({ baseUrl: NETBOX_URL, token: TOKENS.v2 });
  expect(instance.name).toBe('Default');
  instanceId = instance.id;
});

test('enabling prefix sync registers our webhook, two event rules and the tracking custom fields in NetBox', async () => {
  await client.setPrefixSync('Default', true);
  const { webhooks, eventRules, customFields } = await ourNetBoxObjects();
  expect(webhooks).toHaveLength(1);
  expect(webhooks[0].payload_url).toBe(`${receiverUrl}/webhooks/netbox?instanceId=${instanceId}`);
  expect(eventRules).toHaveLength(2);
  expect(eventRules.every((r) => r.action_object_id === webhooks[0].id)).toBe(true);
  expect(eventRules.map((r) => (r.object_types ?? []).join()).sort()).toEqual(['dcim.site', 'ipam.prefix']);
  expect(customFields.map((f) => f.name).sort()).toEqual(['gaiia_instance_id', 'gaiia_tenant_id']);
  // NetBox's API shows the secret to a token that can read webhooks: it must be the one in our store (set, long).
  const full = (await api.get<{ secret: string }>(`/api/extras/webhooks/${webhooks[0].id}/`)).data;
  expect(full.secret).toMatch(/^[0-9a-f]{32,}$/);
  // Enabling again repairs, never duplicates.
  await client.setPrefixSync('Default', true);
  const again = await ourNetBoxObjects();
  expect([again.webhooks.length, again.eventRules.length, again.customFields.length]).toEqual([1, 2, 2]);
});

test('a full sync makes the IP Blocks NetBox’s API lists; a re-run creates nothing', async () => {
  const report = await client.runFullSync('Default');
  const expected = await expectedBlocks();
  expect(expected.length).toBeGreaterThan(0);
  expect(await ourBlocks()).toEqual(expected);
  expect(report.created).toBe(expected.length);
  expect(report.netboxVersion).toMatch(/^4\.7/);
  const rerun = await client.runFullSync('Default');
  expect(rerun.created).toBe(0);
  expect(rerun.alreadyPresent).toBe(expected.length);
});

test('prefixes created, edited (CIDR, description, site) and deleted through NetBox’s API reach gaiia by webhook', async () => {
  const [a, b] = sites;
  const before = { a: await blocksOn(a.name), b: await blocksOn(b.name) };
  const created = (
    await api.post<NbPrefix>('/api/ipam/prefixes/', { prefix: '198.51.100.0/24', scope_type: 'dcim.site', scope_id: a.id, description: `${runTag} new` })
  ).data;
  await arrives(() => blocksOn(a.name), (x) => x.includes(`198.51.100.0/24 ${runTag} new`), 'the created prefix');
  const blockId = (await client.listIpBlocks()).find((x) => x.block === '198.51.100.0/24')!.id;

  await api.patch(`/api/ipam/prefixes/${created.id}/`, { prefix: '198.51.100.0/25', description: `${runTag} edited` });
  await arrives(() => blocksOn(a.name), (x) => x.includes(`198.51.100.0/25 ${runTag} edited`) && !x.some((y) => y.startsWith('198.51.100.0/24')), 'the edit');
  expect((await client.listIpBlocks()).find((x) => x.block === '198.51.100.0/25')!.id).toBe(blockId);

  await api.patch(`/api/ipam/prefixes/${created.id}/`, { scope_type: 'dcim.site', scope_id: b.id });
  await arrives(() => blocksOn(b.name), (x) => x.includes(`198.51.100.0/25 ${runTag} edited`), 'the move to another site');
  expect(await blocksOn(a.name)).toEqual(before.a);

  await api.delete(`/api/ipam/prefixes/${created.id}/`);
  await arrives(() => blocksOn(b.name), (x) => JSON.stringify(x) === JSON.stringify(before.b), 'the delete');
  expect(await ourBlocks()).toEqual(await expectedBlocks());
});

test('with a role filter, a prefix gains our block when it takes the role and loses it when it drops it', async () => {
  const role = (await api.post<{ id: number }>('/api/ipam/roles/', { name: `${runTag} role`, slug: `${runTag}-role` })).data;
  await client.setPrefixSync('Default', true, [role.id]);
  const [a] = sites;
  const p = (await api.post<NbPrefix>('/api/ipam/prefixes/', { prefix: '203.0.113.0/26', scope_type: 'dcim.site', scope_id: a.id })).data;
  // No role while a filter is active: NetBox sends the webhook, the prefix is filtered out.
  await new Promise((r) => setTimeout(r, 2_000));
  expect(await blocksOn(a.name)).not.toContain('203.0.113.0/26');
  await api.patch(`/api/ipam/prefixes/${p.id}/`, { role: role.id });
  await arrives(() => blocksOn(a.name), (x) => x.includes('203.0.113.0/26'), 'the prefix taking the role');
  await api.patch(`/api/ipam/prefixes/${p.id}/`, { role: null });
  await arrives(() => blocksOn(a.name), (x) => !x.includes('203.0.113.0/26'), 'the prefix dropping the role');
  await api.delete(`/api/ipam/prefixes/${p.id}/`);
  await client.setPrefixSync('Default', true, []);
});

test('deleting a site in NetBox (4.2+ cascade) removes our blocks on its Network Site, and only ours', async () => {
  const site = (await api.post<NbSite>('/api/dcim/sites/', { name: `${runTag} doomed`, slug: `${runTag}-doomed`, status: 'active' })).data;
  networkSites.push(site.name);
  await client.addNetworkSite(site.name);
  await client.addManualIpBlock(site.name, '192.0.2.128/25', 'by hand');
  manualBlocks.add(`${site.name} 192.0.2.128/25 by hand`);
  for (const cidr of ['192.0.2.0/27', '192.0.2.32/27']) {
    await api.post('/api/ipam/prefixes/', { prefix: cidr, scope_type: 'dcim.site', scope_id: site.id });
  }
  await arrives(() => blocksOn(site.name), (x) => x.length === 3, 'the two prefixes on the new site');
  await api.delete(`/api/dcim/sites/${site.id}/`);
  await arrives(() => blocksOn(site.name), (x) => JSON.stringify(x) === JSON.stringify(['192.0.2.128/25 by hand']), 'the cascade');
  expect((await api.get<{ count: number }>('/api/ipam/prefixes/', { params: { q: '192.0.2.', limit: 1 } })).data.count).toBe(0);
});

test('changes NetBox sent no webhook for (our event rules switched off): full sync and reconcile converge; enabling repairs the rules', async () => {
  const rules = (await ourNetBoxObjects()).eventRules;
  for (const r of rules) await api.patch(`/api/extras/event-rules/${r.id}/`, { enabled: false });
  const synced = (await listAll<NbPrefix>('/api/ipam/prefixes/')).filter(
    (p) => p.scope_type === 'dcim.site' && p.scope?.name && networkSites.includes(p.scope.name),
  );
  const [gone, moved] = synced;
  const target = sites.find((x) => networkSites.includes(x.name) && x.name !== moved.scope!.name)!;
  await api.delete(`/api/ipam/prefixes/${gone.id}/`);
  await api.patch(`/api/ipam/prefixes/${moved.id}/`, { prefix: '203.0.113.128/25', scope_type: 'dcim.site', scope_id: target.id });
  await api.post('/api/ipam/prefixes/', { prefix: '203.0.113.64/26', scope_type: 'dcim.site', scope_id: target.id, description: `${runTag} unsent` });
  await new Promise((r) => setTimeout(r, 2_000));
  expect(await ourBlocks()).not.toEqual(await expectedBlocks());

  expect((await client.runFullSync('Default')).created).toBeGreaterThanOrEqual(1);
  const report = await client.reconcile('Default');
  expect(report).toMatchObject({ removed: 2, parked: 0 });
  expect(await ourBlocks()).toEqual(await expectedBlocks());

  await client.setPrefixSync('Default', true);
  const repaired = (await ourNetBoxObjects()).eventRules as Array<NbTracked & { enabled?: boolean }>;
  expect(repaired.map((r) => r.enabled)).toEqual([true, true]);
});

test('disabling prefix sync removes every object of ours from NetBox, and later changes no longer reach gaiia', async () => {
  const removal = await client.setPrefixSync('Default', false);
  expect(removal).toBeDefined();
  const left = await ourNetBoxObjects();
  expect(left).toEqual({ webhooks: [], eventRules: [], customFields: [] });
  const before = await ourBlocks();
  const p = (await api.post<NbPrefix>('/api/ipam/prefixes/', { prefix: '198.51.100.128/25', scope_type: 'dcim.site', scope_id: sites[0].id })).data;
  await new Promise((r) => setTimeout(r, 2_000));
  expect(await ourBlocks()).toEqual(before);
  await api.delete(`/api/ipam/prefixes/${p.id}/`);
});
