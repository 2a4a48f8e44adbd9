/**
 * Workflow level, on a real Temporal dev server against the NetBox stand-in (NetBox 4.2 shapes and
 * validation): createNetBoxPrefixUpdateWebhook, removeNetBoxPrefixUpdateWebhook, getIpamRolesFromNetBox,
 * getConfigForNetBox, getNetBoxPrefixSyncSettings and netBoxHttpRequest. The last test reads back every
 * workflow history this file produced, the captured logs and the config, and looks for tokens and secrets.
 */
import crypto from 'node:crypto';
import axios from 'axios';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry, type Worker } from '@temporalio/worker';
import { openConnections, type Connections } from '../activities/connections';
import { HIDDEN, type NetBoxConfig, type NetBoxHttpResponse } from '../activities/settings-backend';
import type { AppConfig } from '../activities/store/config';
import type { NetBoxInstance } from '../activities/store/instances';
import type { NetBoxRole } from '../activities/netbox/schemas';
import { failureMessage } from '../client/prefix-sync-client';
import { createWorker } from '../worker';
import type { WebhookRegistrationReport } from '../workflows/createNetBoxPrefixUpdateWebhook';
import type { WebhookRemovalReport } from '../workflows/removeNetBoxPrefixUpdateWebhook';
import { loadDemoDataset } from './netbox-standin/demo-dump';
import { NetBoxDataset } from './netbox-standin/model';
import { newV1Token, type TokenSpec } from './netbox-standin/auth';
import { startNetBoxStandIn, type NetBoxStandIn } from './netbox-standin/server';
import { testConfig } from './support/config';
import { signatureOf, startReceiverStub } from './support/receiver-stub';
import { startTemporal, workflowBundle } from './support/temporal';

jest.setTimeout(180_000);

// ---- Everything the SDK and the code print goes here, for the secrets test at the end. ----------------------
const logLines: string[] = [];
const jsonSafe = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
const sdkLogger = new DefaultLogger('DEBUG', (entry: LogEntry) => {
  logLines.push(`${entry.level} ${entry.message} ${jsonSafe(entry.meta ?? {})}`);
});
const consoleMethods = ['log', 'info', 'warn', 'error', 'debug'] as const;
const originalConsole = Object.fromEntries(consoleMethods.map((m) => [m, console[m]]));

/** Every token handed to a stand-in and every webhook secret seen anywhere, for the secrets test. */
const secrets = new Set<string>();

const FULL = newV1Token();
const VIEW_ONLY = newV1Token();
const NO_ADD_EVENT_RULE = newV1Token();
const ALL_PERMISSIONS = [
  'ipam.view_prefix', 'ipam.view_role', 'dcim.view_site',
  'extras.view_webhook', 'extras.add_webhook', 'extras.change_webhook', 'extras.delete_webhook',
  'extras.view_eventrule', 'extras.add_eventrule', 'extras.change_eventrule', 'extras.delete_eventrule',
  'extras.view_customfield', 'extras.add_customfield', 'extras.change_customfield', 'extras.delete_customfield',
];

let env: TestWorkflowEnvironment;
let receiver: Awaited<ReturnType<typeof startReceiverStub>>;
let nb: NetBoxStandIn;
const standIns: NetBoxStandIn[] = [];
const workers: Array<{ worker: Worker; running: Promise<void> }> = [];

/** One deployment of this integration: its own store, tenant and task queue, with a worker. */
interface Deployment {
  config: AppConfig;
  c: Connections;
}
let d1: Deployment;

async function deploy(tenantId: string, receiverPath = ''): Promise<Deployment> {
  const base = testConfig();
  const config: AppConfig = {
    ...base,
    gaiia: { ...base.gaiia, tenantId },
    receiver: { ...base.receiver, publicUrl: `${receiver.url}${receiverPath}` },
  };
  const c = await openConnections(config);
  const worker = await createWorker({
    connection: env.nativeConnection,
    connections: c,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await workflowBundle(),
  });
  workers.push({ worker, running: worker.run() });
  return { config, c };
}

async function standIn(tokens: TokenSpec[] = [{ token: FULL, permissions: 'all' }], dataset?: NetBoxDataset): Promise<NetBoxStandIn> {
  const s = await startNetBoxStandIn({ version: '4.2', dataset: dataset ?? new NetBoxDataset({ source: 'empty' }), tokens });
  standIns.push(s);
  for (const t of tokens) secrets.add(t.token);
  return s;
}

beforeAll(async () => {
  for (const m of consoleMethods) {
    console[m] = (...args: unknown[]) => {
      logLines.push(args.map((a) => (typeof a === 'string' ? a : jsonSafe(a))).join(' '));
      if (m === 'error') originalConsole.error(...args);
    };
  }
  receiver = await startReceiverStub();
  env = await startTemporal({ logger: sdkLogger });
  nb = await standIn(
    [
      { token: FULL, permissions: 'all' },
      { token: VIEW_ONLY, permissions: ALL_PERMISSIONS.filter((p) => p.includes('.view_')) },
      { token: NO_ADD_EVENT_RULE, permissions: ALL_PERMISSIONS.filter((p) => p !== 'extras.add_eventrule') },
    ],
    loadDemoDataset('4.2'),
  );
  d1 = await deploy('tenant-one');
});

afterAll(async () => {
  for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  await Promise.all(workers.map((w) => w.running.catch(() => undefined)));
  await Promise.all(standIns.map((s) => s.close()));
  await receiver?.close();
  await env?.teardown();
  for (const m of consoleMethods) console[m] = originalConsole[m];
});

// ---- Helpers ------------------------------------------------------------------------------------------------

async function run<T>(d: Deployment, type: string, arg: unknown): Promise<T> {
  return env.client.workflow.execute(type, {
    taskQueue: d.config.temporal.taskQueue,
    workflowId: `${type}-${crypto.randomUUID()}`,
    args: [arg],
  }) as Promise<T>;
}

async function runFails(d: Deployment, type: string, arg: unknown): Promise<string> {
  try {
    await run(d, type, arg);
  } catch (err) {
    return failureMessage(err);
  }
  throw new Error(`${type} was expected to fail`);
}

async function addInstance(d: Deployment, name: string, netbox: NetBoxStandIn, token = FULL, enabled = true): Promise<NetBoxInstance> {
  const created = await d.c.instances.create({ name, baseUrl: netbox.url, token });
  return d.c.instances.setPrefixSync(created.id, enabled);
}

async function remember(d: Deployment, ...instances: NetBoxInstance[]): Promise<void> {
  for (const s of standIns) for (const w of s.dataset.webhooks.all()) if (w.secret) secrets.add(w.secret);
  for (const i of instances) {
    const secret = await d.c.instances.webhookSecretFor(i.id);
    if (secret) secrets.add(secret);
  }
}

/** What NetBox holds for one tracking id. */
function objectsOf(netbox: NetBoxStandIn, trackingId: string) {
  const carries = (o: { customFieldData: Record<string, unknown> }) => o.customFieldData.gaiia_instance_id === trackingId;
  return {
    webhooks: netbox.dataset.webhooks.all().filter(carries),
    rules: netbox.dataset.eventRules.all().filter(carries),
  };
}

const fieldNames = (netbox: NetBoxStandIn) => netbox.dataset.customFields.all().map((f) => f.name).filter((n) => n.startsWith('gaiia_')).sort();

async function waitFor<T>(what: string, check: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function siteScopedPrefix(netbox: NetBoxStandIn, cidr: string) {
  const site = netbox.dataset.sites.all()[0];
  return netbox.createPrefix({ prefix: cidr, scope: { type: 'dcim.site', id: site.id } });
}

// ---- createNetBoxPrefixUpdateWebhook --------------------------------------------------------------------------

let a: NetBoxInstance;
let aKey: string;

test('create makes the tracking fields, a webhook to the receiver with the stored secret, and two event rules', async () => {
  a = await addInstance(d1, 'Alpha', nb);
  const report = await run<WebhookRegistrationReport>(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Alpha' });
  await remember(d1, a);
  aKey = await d1.c.instances.trackingIdFor(a.id);

  expect(fieldNames(nb)).toEqual(['gaiia_instance_id', 'gaiia_tenant_id']);
  for (const f of nb.dataset.customFields.all().filter((x) => x.name.startsWith('gaiia_'))) {
    expect(f.type).toBe('text');
    expect([...f.objectTypes].sort()).toEqual(['extras.eventrule', 'extras.webhook']);
  }
  const { webhooks, rules } = objectsOf(nb, aKey);
  expect(webhooks).toHaveLength(1);
  const hook = webhooks[0];
  const secret = await d1.c.instances.webhookSecretFor(a.id);
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
  expect(hook).toMatchObject({
    name: `gaiia prefix sync ${aKey}`,
    payloadUrl: `${receiver.url}/webhooks/netbox?instanceId=${a.id}`,
    httpMethod: 'POST',
    httpContentType: 'application/json',
    bodyTemplate: '',
    secret,
    customFieldData: { gaiia_tenant_id: 'tenant-one', gaiia_instance_id: aKey },
  });
  const byTypes = Object.fromEntries(rules.map((r) => [r.objectTypes.join(','), r]));
  expect(rules).toHaveLength(2);
  expect(byTypes['ipam.prefix']).toMatchObject({
    enabled: true,
    eventTypes: ['object_created', 'object_updated', 'object_deleted'],
    actionType: 'webhook',
    actionObjectType: 'extras.webhook',
    actionObjectId: hook.id,
  });
  expect(byTypes['dcim.site']).toMatchObject({ enabled: true, eventTypes: ['object_deleted'], actionObjectId: hook.id });

  expect(report).toMatchObject({ instanceName: 'Alpha', webhookId: hook.id, payloadUrl: hook.payloadUrl, repaired: [], deleted: [] });
  expect(report.created).toHaveLength(5);
  expect((await d1.c.instances.requireById(a.id)).webhook).toMatchObject({
    webhookId: hook.id,
    eventRuleIds: rules.map((r) => r.id).sort((x, y) => x - y),
    customFieldIds: nb.dataset.customFields.all().filter((f) => f.name.startsWith('gaiia_')).map((f) => f.id).sort((x, y) => x - y),
    payloadUrl: hook.payloadUrl,
  });
  expect((await d1.c.instances.requireById(a.id)).netboxVersion).toBe(nb.fullVersion);

  // NetBox now tells the receiver about a prefix change, signed with the secret the receiver will look up.
  siteScopedPrefix(nb, '198.51.100.0/24');
  const got = await waitFor('the prefix webhook', () => receiver.received.find((r) => r.body.includes('198.51.100.0/24')));
  expect(got.url).toBe(`/webhooks/netbox?instanceId=${a.id}`);
  expect(got.signature).toBe(signatureOf(got.body, secret!));
});

test('create again changes nothing; after edits in NetBox it repairs them and keeps the same objects and secret', async () => {
  const before = objectsOf(nb, aKey);
  const secret = await d1.c.instances.webhookSecretFor(a.id);
  const again = await run<WebhookRegistrationReport>(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Alpha' });
  expect(again).toMatchObject({ created: [], repaired: [], deleted: [], webhookId: before.webhooks[0].id });
  expect(objectsOf(nb, aKey).webhooks).toHaveLength(1);
  expect(objectsOf(nb, aKey).rules).toHaveLength(2);
  expect(fieldNames(nb)).toEqual(['gaiia_instance_id', 'gaiia_tenant_id']);

  // Someone edits our webhook and a rule, and deletes the other rule.
  const api = axios.create({ baseURL: nb.url, headers: { Authorization: `Token ${FULL}` } });
  const hookId = before.webhooks[0].id;
  await api.patch(`/api/extras/webhooks/${hookId}/`, { payload_url: 'http://elsewhere.example/hook', secret: 'someone-elses-secret' });
  const prefixRule = before.rules.find((r) => r.objectTypes.includes('ipam.prefix'))!;
  const siteRule = before.rules.find((r) => r.objectTypes.includes('dcim.site'))!;
  await api.patch(`/api/extras/event-rules/${prefixRule.id}/`, { enabled: false, event_types: ['object_created'] });
  await api.delete(`/api/extras/event-rules/${siteRule.id}/`);

  const repair = await run<WebhookRegistrationReport>(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Alpha' });
  expect(repair.webhookId).toBe(hookId);
  expect(repair.repaired.join('\n')).toMatch(/webhook .*payload_url, secret/);
  expect(repair.repaired.join('\n')).toMatch(/event rule .*prefix changes.*event_types, enabled/);
  expect(repair.created).toEqual([expect.stringMatching(/site deletions/)]);
  const after = objectsOf(nb, aKey);
  expect(after.webhooks[0]).toMatchObject({ id: hookId, payloadUrl: `${receiver.url}/webhooks/netbox?instanceId=${a.id}`, secret });
  expect(after.rules.find((r) => r.id === prefixRule.id)).toMatchObject({ enabled: true, eventTypes: ['object_created', 'object_updated', 'object_deleted'] });
  expect(after.rules).toHaveLength(2);
  expect(await d1.c.instances.webhookSecretFor(a.id)).toBe(secret);
  // The report never says what the secret is, only that it was put back.
  expect(JSON.stringify(repair)).not.toContain(secret!);
});

test('rotateSecret stores a new secret before NetBox gets it; deliveries are signed with the new one', async () => {
  const old = await d1.c.instances.webhookSecretFor(a.id);
  const report = await run<WebhookRegistrationReport>(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Alpha', rotateSecret: true });
  await remember(d1, a);
  const now = await d1.c.instances.webhookSecretFor(a.id);
  expect(now).not.toBe(old);
  expect(report.repaired).toEqual([expect.stringMatching(/webhook .*: secret$/)]);
  expect(objectsOf(nb, aKey).webhooks[0].secret).toBe(now);
  siteScopedPrefix(nb, '198.51.101.0/24');
  const got = await waitFor('the prefix webhook', () => receiver.received.find((r) => r.body.includes('198.51.101.0/24')));
  expect(got.signature).toBe(signatureOf(got.body, now!));
});

test('a failure between steps leaves objects the next run adopts: one set, nothing orphaned; 5xx is retried', async () => {
  const b = await addInstance(d1, 'Bravo', nb);
  const bKey = await d1.c.instances.trackingIdFor(b.id);
  // Custom fields and the webhook are done when NetBox refuses the first event-rule request.
  nb.faults.failNext(1, 403, '/api/extras/event-rules/');
  const message = await runFails(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Bravo' });
  nb.faults.clear();
  expect(message).toMatch(/refused GET \/api\/extras\/event-rules\/ \(403\).*extras\.view_eventrule/);
  expect(objectsOf(nb, bKey).webhooks).toHaveLength(1);
  expect(objectsOf(nb, bKey).rules).toHaveLength(0);
  const firstWebhookId = objectsOf(nb, bKey).webhooks[0].id;

  // NetBox answers 503 more times than the client retries in one attempt: Temporal retries the activity.
  nb.faults.failNext(5, 503, '/api/extras/webhooks/');
  const rerun = await run<WebhookRegistrationReport>(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Bravo' });
  nb.faults.clear();
  await remember(d1, b);
  expect(rerun.webhookId).toBe(firstWebhookId);
  expect(rerun.created).toEqual([expect.stringMatching(/prefix changes/), expect.stringMatching(/site deletions/)]);
  expect(objectsOf(nb, bKey).webhooks).toHaveLength(1);
  expect(objectsOf(nb, bKey).rules).toHaveLength(2);
  expect(nb.dataset.webhooks.all().filter((w) => w.name.startsWith('gaiia prefix sync'))).toHaveLength(2); // Alpha's and Bravo's
  expect(fieldNames(nb)).toEqual(['gaiia_instance_id', 'gaiia_tenant_id']);
});

test('a token that may not add event rules: the message lists the permissions to grant', async () => {
  const c = await addInstance(d1, 'Charlie', nb, NO_ADD_EVENT_RULE);
  const message = await runFails(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Charlie' });
  await remember(d1, c);
  expect(message).toContain("the permission 'extras.add_eventrule'");
  for (const p of ALL_PERMISSIONS) expect(message).toContain(p);
  // Removing after the failed registration leaves nothing of Charlie's behind.
  const key = await d1.c.instances.trackingIdFor(c.id);
  expect(objectsOf(nb, key).webhooks).toHaveLength(1);
  await d1.c.instances.setPrefixSync(c.id, false);
  await run(d1, 'removeNetBoxPrefixUpdateWebhook', { instanceName: 'Charlie' });
  expect(objectsOf(nb, key)).toEqual({ webhooks: [], rules: [] });
});

test('a wrong token and a read-only token fail at once with messages that say what to fix, and change nothing', async () => {
  const wrongToken = newV1Token();
  secrets.add(wrongToken);
  const wrong = await addInstance(d1, 'WrongToken', nb, wrongToken);
  const readOnly = await addInstance(d1, 'ReadOnly', nb, VIEW_ONLY);
  const before = nb.dataset.webhooks.all().length;
  expect(await runFails(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'WrongToken' })).toMatch(/rejected the API token \(403 Invalid token/);
  expect(await runFails(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'ReadOnly' })).toMatch(/the permission 'extras\.add_webhook'/);
  expect(nb.dataset.webhooks.all().length).toBe(before);
  await remember(d1, wrong, readOnly);
  await d1.c.instances.setPrefixSync(wrong.id, false);
  await d1.c.instances.setPrefixSync(readOnly.id, false);
});

test('bad input fails at once and changes nothing: unknown instance, missing name, disabled instance', async () => {
  const requestsBefore = nb.requests.length;
  expect(await runFails(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Nope' })).toMatch(
    /no NetBox instance named 'Nope'; known instances: 'Alpha', 'Bravo'/,
  );
  expect(await runFails(d1, 'createNetBoxPrefixUpdateWebhook', {})).toMatch(/must be \{"instanceName"/);
  const disabled = await addInstance(d1, 'Disabled', nb, FULL, false);
  expect(await runFails(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Disabled' })).toMatch(
    /prefix sync disabled; enable it, which registers the webhook/,
  );
  expect(nb.requests.length).toBe(requestsBefore);
  expect(await d1.c.instances.webhookSecretFor(disabled.id)).toBeNull();
});

test('a custom field of the same name but another type stops registration with what to do', async () => {
  const other = await standIn();
  other.createCustomField({ name: 'gaiia_tenant_id', type: 'integer', object_types: ['dcim.site'] });
  await addInstance(d1, 'Clash', other);
  const message = await runFails(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Clash' });
  expect(message).toMatch(/already has a custom field 'gaiia_tenant_id' of type 'integer'.*rename or delete/);
  expect(other.dataset.webhooks.all()).toHaveLength(0);
});

// ---- removeNetBoxPrefixUpdateWebhook ---------------------------------------------------------------------------

test('remove is refused while prefix sync is enabled, and changes nothing', async () => {
  const before = objectsOf(nb, aKey);
  expect(await runFails(d1, 'removeNetBoxPrefixUpdateWebhook', { instanceName: 'Alpha' })).toMatch(
    /prefix sync enabled.*disable prefix sync instead/,
  );
  expect(objectsOf(nb, aKey)).toEqual(before);
});

test('two instances on one NetBox: removing one keeps the shared fields and the other webhook working; remove twice is fine', async () => {
  const b = (await d1.c.instances.findByName('Bravo'))!;
  const bKey = await d1.c.instances.trackingIdFor(b.id);
  const bSecret = (await d1.c.instances.webhookSecretFor(b.id))!;
  await d1.c.instances.setPrefixSync(a.id, false);
  const removed = await run<WebhookRemovalReport>(d1, 'removeNetBoxPrefixUpdateWebhook', { instanceName: 'Alpha' });
  expect(removed.deleted).toHaveLength(3);
  expect(removed.kept).toEqual([
    expect.stringMatching(/gaiia_tenant_id: still set on \d+ other/),
    expect.stringMatching(/gaiia_instance_id: still set on \d+ other/),
  ]);
  expect(objectsOf(nb, aKey)).toEqual({ webhooks: [], rules: [] });
  expect(objectsOf(nb, bKey).webhooks).toHaveLength(1);
  expect(objectsOf(nb, bKey).rules).toHaveLength(2);
  expect(fieldNames(nb)).toEqual(['gaiia_instance_id', 'gaiia_tenant_id']);
  const stored = await d1.c.instances.requireById(a.id);
  expect(stored.webhook).toBeNull();
  expect(stored.hasWebhookSecret).toBe(false);

  // Already gone is success.
  const again = await run<WebhookRemovalReport>(d1, 'removeNetBoxPrefixUpdateWebhook', { instanceName: 'Alpha' });
  expect(again.deleted).toEqual([]);

  // Bravo's webhook still fires, signed with Bravo's secret; nothing goes to Alpha's URL any more.
  const seen = receiver.received.length;
  siteScopedPrefix(nb, '198.51.102.0/24');
  const got = await waitFor('the prefix webhook', () => receiver.received.find((r) => r.body.includes('198.51.102.0/24')));
  expect(got.url).toBe(`/webhooks/netbox?instanceId=${b.id}`);
  expect(got.signature).toBe(signatureOf(got.body, bSecret));
  await nb.flushDeliveries();
  expect(receiver.received.slice(seen).filter((r) => r.url.endsWith(`instanceId=${a.id}`))).toEqual([]);
});

test('two deployments (tenants) on one NetBox never collide; the last one out removes the custom fields', async () => {
  const shared = await standIn();
  const d2 = await deploy('tenant-two', '/tenant-two');
  const one = await addInstance(d1, 'Shared', shared);
  const two = await addInstance(d2, 'Shared', shared);
  await run(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Shared' });
  await run(d2, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Shared' });
  await remember(d1, one);
  await remember(d2, two);
  const k1 = await d1.c.instances.trackingIdFor(one.id);
  const k2 = await d2.c.instances.trackingIdFor(two.id);
  expect(k1).not.toBe(k2);
  expect(shared.dataset.webhooks.all().map((w) => w.customFieldData.gaiia_tenant_id).sort()).toEqual(['tenant-one', 'tenant-two']);
  expect(objectsOf(shared, k1).rules).toHaveLength(2);
  expect(objectsOf(shared, k2).rules).toHaveLength(2);

  // Re-running one deployment's create does not adopt or touch the other's objects.
  const rerun = await run<WebhookRegistrationReport>(d2, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Shared' });
  expect(rerun).toMatchObject({ created: [], repaired: [], deleted: [] });

  await d2.c.instances.setPrefixSync(two.id, false);
  const r2 = await run<WebhookRemovalReport>(d2, 'removeNetBoxPrefixUpdateWebhook', { instanceName: 'Shared' });
  expect(r2.kept).toHaveLength(2);
  expect(objectsOf(shared, k2)).toEqual({ webhooks: [], rules: [] });
  expect(objectsOf(shared, k1).webhooks).toHaveLength(1);
  expect(objectsOf(shared, k1).rules).toHaveLength(2);

  await d1.c.instances.setPrefixSync(one.id, false);
  const r1 = await run<WebhookRemovalReport>(d1, 'removeNetBoxPrefixUpdateWebhook', { instanceName: 'Shared' });
  expect(r1.deleted).toEqual(expect.arrayContaining(['custom field gaiia_tenant_id', 'custom field gaiia_instance_id']));
  expect(r1.kept).toEqual([]);
  expect(shared.dataset.webhooks.all()).toEqual([]);
  expect(shared.dataset.eventRules.all()).toEqual([]);
  expect(shared.dataset.customFields.all()).toEqual([]);
});

test('custom fields someone else also uses for other objects are kept', async () => {
  const other = await standIn();
  await addInstance(d1, 'Keeper', other);
  await run(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Keeper' });
  const keeper = (await d1.c.instances.findByName('Keeper'))!;
  await remember(d1, keeper);
  // An admin also put gaiia_tenant_id on sites.
  const field = other.dataset.customFields.all().find((f) => f.name === 'gaiia_tenant_id')!;
  await axios.patch(`${other.url}/api/extras/custom-fields/${field.id}/`, { object_types: [...field.objectTypes, 'dcim.site'] }, { headers: { Authorization: `Token ${FULL}` } });
  await d1.c.instances.setPrefixSync(keeper.id, false);
  const report = await run<WebhookRemovalReport>(d1, 'removeNetBoxPrefixUpdateWebhook', { instanceName: 'Keeper' });
  expect(report.kept).toEqual([expect.stringMatching(/gaiia_tenant_id: also assigned to dcim\.site/)]);
  expect(fieldNames(other)).toEqual(['gaiia_tenant_id']);
});

test('a remove that failed half-way is finished by the next run', async () => {
  const b = (await d1.c.instances.findByName('Bravo'))!;
  const bKey = await d1.c.instances.trackingIdFor(b.id);
  await d1.c.instances.setPrefixSync(b.id, false);
  nb.faults.failNext(1, 403, '/api/extras/webhooks/');
  expect(await runFails(d1, 'removeNetBoxPrefixUpdateWebhook', { instanceName: 'Bravo' })).toMatch(/extras\.view_webhook/);
  nb.faults.clear();
  expect(objectsOf(nb, bKey).rules).toHaveLength(0);
  expect(objectsOf(nb, bKey).webhooks).toHaveLength(1);
  const report = await run<WebhookRemovalReport>(d1, 'removeNetBoxPrefixUpdateWebhook', { instanceName: 'Bravo' });
  expect(report.deleted).toEqual(expect.arrayContaining([expect.stringMatching(/^webhook/), 'custom field gaiia_tenant_id']));
  expect(nb.dataset.webhooks.all()).toEqual([]);
  expect(nb.dataset.eventRules.all()).toEqual([]);
  expect(fieldNames(nb)).toEqual([]);
});

// ---- Settings backend reads and the HTTP request node ---------------------------------------------------------

test('getNetBoxPrefixSyncSettings gives enabled and the role filter; unknown names are listed', async () => {
  await d1.c.instances.setPrefixSync(a.id, false, [3, 1]);
  expect(await run(d1, 'getNetBoxPrefixSyncSettings', { instanceName: 'Alpha' })).toEqual({
    instanceId: a.id,
    instanceName: 'Alpha',
    enabled: false,
    roleFilter: [1, 3],
  });
  expect(await runFails(d1, 'getNetBoxPrefixSyncSettings', { instanceName: 'alpha' })).toMatch(/names are case-sensitive/);
});

test('getIpamRolesFromNetBox lists the roles NetBox has', async () => {
  const roles = await run<NetBoxRole[]>(d1, 'getIpamRolesFromNetBox', { instanceName: 'Alpha' });
  const expected = nb.dataset.roles.all().map((r) => ({ id: r.id, name: r.name, slug: r.slug }));
  expect(expected.length).toBeGreaterThan(0);
  expect([...roles].sort((x, y) => x.id - y.id)).toEqual(expected.sort((x, y) => x.id - y.id));
  expect(await runFails(d1, 'getIpamRolesFromNetBox', { instanceName: 'Nope' })).toMatch(/no NetBox instance named 'Nope'/);
});

test('getConfigForNetBox shows every instance and its webhook state, tokens and secrets hidden', async () => {
  await d1.c.instances.setPrefixSync(a.id, true, []);
  await run(d1, 'createNetBoxPrefixUpdateWebhook', { instanceName: 'Alpha' });
  await remember(d1, a);
  const config = await run<NetBoxConfig>(d1, 'getConfigForNetBox', {});
  expect(config.tenantId).toBe('tenant-one');
  const alpha = config.instances.find((i) => i.name === 'Alpha')!;
  expect(alpha).toMatchObject({
    baseUrl: nb.url,
    token: HIDDEN,
    prefixSyncEnabled: true,
    roleFilter: [],
    netboxVersion: nb.fullVersion,
    webhook: { registered: true, payloadUrl: `${receiver.url}/webhooks/netbox?instanceId=${a.id}`, secret: HIDDEN },
  });
  expect(alpha.webhook.eventRuleIds).toHaveLength(2);
  expect(config.instances.find((i) => i.name === 'Bravo')!.webhook).toMatchObject({ registered: false, webhookId: null, secret: '(not set)' });
  expect(config.instances.map((i) => i.name)).toEqual(
    expect.arrayContaining(['Alpha', 'Bravo', 'Charlie', 'WrongToken', 'ReadOnly', 'Disabled', 'Clash', 'Shared', 'Keeper']),
  );
});

test('netBoxHttpRequest: an authenticated request with credentials in the answer hidden', async () => {
  const status = await run<NetBoxHttpResponse>(d1, 'netBoxHttpRequest', { instanceName: 'Alpha', method: 'get', path: '/api/status/' });
  expect(status.status).toBe(200);
  expect(status.body).toMatchObject({ 'netbox-version': nb.fullVersion });

  const hooks = await run<NetBoxHttpResponse>(d1, 'netBoxHttpRequest', {
    instanceName: 'Alpha',
    method: 'GET',
    path: '/api/extras/webhooks/',
    query: { cf_gaiia_instance_id: aKey },
  });
  const results = (hooks.body as { results: Array<{ name: string; secret: string }> }).results;
  expect(results.map((r) => r.name)).toEqual([`gaiia prefix sync ${aKey}`]);
  expect(results[0].secret).toBe('[redacted]');

  const missing = await run<NetBoxHttpResponse>(d1, 'netBoxHttpRequest', { instanceName: 'Alpha', method: 'GET', path: '/api/ipam/prefixes/999999/' });
  expect(missing.status).toBe(404);

  const created = await run<NetBoxHttpResponse>(d1, 'netBoxHttpRequest', {
    instanceName: 'Alpha',
    method: 'POST',
    path: '/api/ipam/roles/',
    body: { name: 'Made through Temporal', slug: 'made-through-temporal' },
  });
  expect(created.status).toBe(201);
  expect(nb.dataset.roles.all().some((r) => r.slug === 'made-through-temporal')).toBe(true);
});

test('netBoxHttpRequest refuses paths outside the API and malformed input before any request', async () => {
  const before = nb.requests.length;
  for (const path of ['/admin/', '/api/../admin/', 'https://evil.example/api/status/', '//evil.example/api/', '/api/./status/']) {
    expect(await runFails(d1, 'netBoxHttpRequest', { instanceName: 'Alpha', method: 'GET', path })).toMatch(/is not a NetBox API path/);
  }
  expect(await runFails(d1, 'netBoxHttpRequest', { instanceName: 'Alpha', method: 'TRACE', path: '/api/status/' })).toMatch(/invalid input: method/);
  expect(await runFails(d1, 'netBoxHttpRequest', { instanceName: 'Alpha', method: 'GET', path: '/api/status/', headers: { Host: 'x' } })).toMatch(
    /invalid input.*headers/i,
  );
  expect(await runFails(d1, 'netBoxHttpRequest', { instanceName: 'Nope', method: 'GET', path: '/api/status/' })).toMatch(/no NetBox instance named 'Nope'/);
  expect(nb.requests.length).toBe(before);
});

// ---- Secrets: last, so it sees every history this file made -------------------------------------------------------

test('no token and no webhook secret in any workflow history, in the logs, or in getConfigForNetBox', async () => {
  const config = await run<NetBoxConfig>(d1, 'getConfigForNetBox', {});
  await remember(d1, ...(await d1.c.instances.list()));
  expect(secrets.size).toBeGreaterThanOrEqual(10); // 3 tokens + rotated and current webhook secrets of several instances

  const texts: Array<[string, string]> = [['getConfigForNetBox output', JSON.stringify(config)]];
  let histories = 0;
  for await (const execution of env.client.workflow.list()) {
    const history = await env.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    // Payload bytes as text, so a secret inside a JSON payload is found; also the raw JSON (base64).
    const decoded = JSON.stringify(history, (_k, v) => {
      if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
      if (v && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data).toString('utf8');
      return v;
    });
    texts.push([`history of ${execution.workflowId}`, decoded]);
    histories++;
  }
  expect(histories).toBeGreaterThanOrEqual(20);
  // The decoding works: payload contents (here an instance name and a payload URL) are readable text.
  expect(texts.some(([where, text]) => where.startsWith('history') && text.includes('Alpha'))).toBe(true);
  expect(texts.some(([, text]) => text.includes(`webhooks/netbox?instanceId=${a.id}`))).toBe(true);
  texts.push(['logs', logLines.join('\n')]);
  expect(logLines.length).toBeGreaterThan(0);

  for (const [where, text] of texts) {
    for (const secret of secrets) {
      const forms = [secret, Buffer.from(secret).toString('base64')];
      for (const form of forms) {
        if (text.includes(form)) throw new Error(`${where} contains a secret (${secret.slice(0, 4)}…)`);
      }
    }
  }
});
