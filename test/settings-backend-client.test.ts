/**
 * The settings backend's client module and the CLI on top of it, on a real Temporal dev server against the
 * NetBox stand-in (4.2 demo data): add/update/remove instances, enable/disable (which register and remove the
 * webhook), roles, config, the HTTP request node and a full sync.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { openConnections } from '../activities/connections';
import { REQUIRED_PERMISSIONS } from '../activities/netbox/permissions';
import type { AppConfig } from '../activities/store/config';
import { buildCli, parsePageSize, parseRoles } from '../client/cli';
import { PrefixSyncClient } from '../client/prefix-sync-client';
import { createWorker } from '../worker';
import { newV1Token } from './netbox-standin/auth';
import { loadDemoDataset } from './netbox-standin/demo-dump';
import { startNetBoxStandIn, type NetBoxStandIn } from './netbox-standin/server';
import { testConfig } from './support/config';
import { startReceiverStub } from './support/receiver-stub';
import { startTemporal, workflowBundle } from './support/temporal';

jest.setTimeout(180_000);

const TOKEN = newV1Token();
const NO_PREFIX_VIEW = newV1Token();

let env: TestWorkflowEnvironment;
let nb: NetBoxStandIn;
let receiver: Awaited<ReturnType<typeof startReceiverStub>>;
let config: AppConfig;
let client: PrefixSyncClient;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  env = await startTemporal();
  receiver = await startReceiverStub();
  nb = await startNetBoxStandIn({
    version: '4.2',
    dataset: loadDemoDataset('4.2'),
    tokens: [
      { token: TOKEN, permissions: 'all' },
      { token: NO_PREFIX_VIEW, permissions: REQUIRED_PERMISSIONS.filter((p) => p !== 'ipam.view_prefix') },
    ],
  });
  const base = testConfig();
  config = { ...base, receiver: { ...base.receiver, publicUrl: receiver.url } };
  worker = await createWorker({
    connection: env.nativeConnection,
    connections: await openConnections(config),
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await workflowBundle(),
  });
  running = worker.run();
  client = await PrefixSyncClient.open(config, { temporalAddress: env.address });
});

afterAll(async () => {
  await client?.close();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running?.catch(() => undefined);
  await nb?.close();
  await receiver?.close();
  await env?.teardown();
});

const ourWebhooks = () => nb.dataset.webhooks.all().filter((w) => w.name.startsWith('gaiia prefix sync'));

test('adding an instance checks the URL and the token; a refused token and a missing permission (both 403) say what to fix and nothing is stored', async () => {
  await expect(client.addInstance({ baseUrl: receiver.url, token: TOKEN })).rejects.toThrow(/does not look like a NetBox API/);
  await expect(client.addInstance({ baseUrl: nb.url, token: newV1Token() })).rejects.toThrow(/rejected the API token \(403 Invalid token/);
  const denied = client.addInstance({ baseUrl: nb.url, token: NO_PREFIX_VIEW });
  await expect(denied).rejects.toThrow(/lacks the permission 'ipam\.view_prefix'/);
  await expect(client.addInstance({ baseUrl: nb.url, token: NO_PREFIX_VIEW })).rejects.toThrow(REQUIRED_PERMISSIONS.join(', '));
  expect(await client.listInstances()).toEqual([]);

  const added = await client.addInstance({ baseUrl: `${nb.url}/api/`, token: TOKEN });
  expect(added).toMatchObject({ name: 'Default', baseUrl: nb.url, prefixSyncEnabled: false, netboxVersion: nb.fullVersion, webhook: null });
  expect(JSON.stringify(added)).not.toContain(TOKEN);
  await expect(client.addInstance({ baseUrl: nb.url, token: TOKEN })).rejects.toThrow(/already exists/);
});

test('a blank token on update keeps the current one', async () => {
  const updated = await client.updateInstance('Default', { token: '   ' });
  expect(updated.name).toBe('Default');
  expect(await client.connections.instances.tokenFor(updated.id)).toBe(TOKEN);
});

test('enable saves the setting and registers the webhook; roles come from NetBox through Temporal', async () => {
  const roles = await client.listRoles('Default');
  expect(roles.length).toBe(nb.dataset.roles.all().length);
  const view = await client.setPrefixSync('Default', true, [roles[0].id]);
  expect(view).toMatchObject({ prefixSyncEnabled: true, roleFilter: [roles[0].id] });
  expect(view.webhook).toMatchObject({ payloadUrl: `${receiver.url}/webhooks/netbox?instanceId=${view.id}`, eventRuleIds: [expect.any(Number), expect.any(Number)] });
  expect(ourWebhooks()).toHaveLength(1);
  expect(ourWebhooks()[0].id).toBe(view.webhook!.webhookId);

  // Enabling again (say, with another role filter) repairs rather than duplicates.
  await client.setPrefixSync('Default', true, []);
  expect(ourWebhooks()).toHaveLength(1);
  expect(nb.dataset.eventRules.all().filter((r) => r.name.startsWith('gaiia prefix sync'))).toHaveLength(2);
});

test('config and the HTTP request node through the client hide tokens and secrets', async () => {
  const cfg = await client.getConfig();
  expect(cfg.instances).toEqual([expect.objectContaining({ name: 'Default', prefixSyncEnabled: true, webhook: expect.objectContaining({ registered: true }) })]);
  const secret = (await client.connections.instances.webhookSecretFor(cfg.instances[0].id))!;
  expect(JSON.stringify(cfg)).not.toContain(TOKEN);
  expect(JSON.stringify(cfg)).not.toContain(secret);

  const res = await client.netboxRequest({ instanceName: 'Default', method: 'GET', path: '/api/extras/webhooks/' });
  expect(res.status).toBe(200);
  expect(JSON.stringify(res.body)).not.toContain(secret);
  await expect(client.netboxRequest({ instanceName: 'Default', method: 'GET', path: '/api/../../etc/passwd' })).rejects.toThrow(
    /is not a NetBox API path/,
  );
});

test('a full sync runs and reports while enabled, and is refused once disable has removed the webhook', async () => {
  // A Network Site named like a NetBox site that has site-scoped prefixes.
  const scoped = nb.dataset.prefixes.all().map((p) => nb.renderPrefix(p.id)).find((p) => p.scope_type === 'dcim.site');
  await client.addNetworkSite(String((scoped!.scope as { name: string }).name));
  const report = await client.runFullSync('Default');
  expect(report.created).toBeGreaterThan(0);

  const view = await client.setPrefixSync('Default', false);
  expect(view).toMatchObject({ prefixSyncEnabled: false, webhook: null });
  expect(ourWebhooks()).toEqual([]);
  expect(nb.dataset.customFields.all().filter((f) => f.name.startsWith('gaiia_'))).toEqual([]);
  await expect(client.runFullSync('Default')).rejects.toThrow(/prefix sync disabled; enable it before a full sync/);
});

test('a new URL is refused while sync is on, and while blocks are tracked unless --force (the same NetBox moved)', async () => {
  const sameNetBoxElsewhere = nb.url.replace('127.0.0.1', 'localhost');
  await client.setPrefixSync('Default', true, [], { manageWebhook: false });
  await expect(client.updateInstance('Default', { baseUrl: sameNetBoxElsewhere })).rejects.toThrow(/disable sync first/);
  await client.setPrefixSync('Default', false, undefined, { manageWebhook: false });
  // The previous test's full sync left blocks tracked by this NetBox's prefix ids.
  await expect(client.updateInstance('Default', { baseUrl: sameNetBoxElsewhere })).rejects.toThrow(/tracks \d+ IP Blocks .* repeat with --force/);
  expect((await client.getInstance('Default')).baseUrl).toBe(nb.url);
  expect((await client.updateInstance('Default', { baseUrl: sameNetBoxElsewhere, force: true })).baseUrl).toBe(sameNetBoxElsewhere);
  await client.updateInstance('Default', { baseUrl: nb.url, force: true });
});

test('removing an instance disables it and removes its webhook first; if NetBox refuses, only --force removes it', async () => {
  const second = await client.addInstance({ name: 'Second', baseUrl: nb.url, token: TOKEN });
  await client.setPrefixSync('Second', true);
  expect(ourWebhooks()).toHaveLength(1);
  const removed = await client.removeInstance('Second');
  expect(removed.webhook?.deleted).toEqual(expect.arrayContaining([expect.stringMatching(/^webhook/)]));
  expect(ourWebhooks()).toEqual([]);
  expect((await client.listInstances()).map((i) => i.name)).toEqual(['Default']);
  expect(second.id).toBeGreaterThan(0);

  await client.addInstance({ name: 'Third', baseUrl: nb.url, token: TOKEN });
  await client.setPrefixSync('Third', true);
  nb.faults.failNext(50, 401, '/api/extras/');
  await expect(client.removeInstance('Third')).rejects.toThrow(/'Third' was not removed .*rejected the API token.*--force/);
  expect((await client.getInstance('Third')).prefixSyncEnabled).toBe(false);
  const forced = await client.removeInstance('Third', { force: true });
  nb.faults.clear();
  expect(forced.warning).toMatch(/delete it in NetBox by hand/);
  expect((await client.listInstances()).map((i) => i.name)).toEqual(['Default']);
  // Clean up what --force left behind, through the request node.
  for (const hook of ourWebhooks()) {
    await client.netboxRequest({ instanceName: 'Default', method: 'DELETE', path: `/api/extras/webhooks/${hook.id}/` });
  }
});

test('the CLI: config, roles, request and webhook commands print JSON and never a token', async () => {
  const saved = { ...process.env };
  Object.assign(process.env, {
    NPS_DATA_DIR: config.dataDir,
    DATABASE_URL: config.databaseUrl,
    NPS_SECRET_KEY: config.secretKey,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
    RECEIVER_PUBLIC_URL: receiver.url,
  });
  const printed: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
  const cli = async (...args: string[]) => {
    printed.length = 0;
    await buildCli().exitOverride().parseAsync(['node', 'cli', '--json', ...args]);
    return JSON.parse(printed.join('\n'));
  };
  try {
    expect((await cli('config')).instances[0]).toMatchObject({ name: 'Default', token: '(set, hidden)' });
    expect((await cli('roles', '--instance', 'Default')).length).toBe(nb.dataset.roles.all().length);
    expect(await cli('request', 'GET', '/api/status/', '--instance', 'Default')).toMatchObject({ status: 200 });
    expect(await cli('request', 'GET', '/api/ipam/prefixes/', '--instance', 'Default', '--query', 'limit=1', '--query', 'ordering=id')).toMatchObject({
      status: 200,
      body: { results: [expect.any(Object)] },
    });
    await cli('sync', 'enable', '--instance', 'Default');
    expect(ourWebhooks()).toHaveLength(1);
    expect((await cli('webhook', 'register', '--instance', 'Default'))).toMatchObject({ created: [], repaired: [] });
    await cli('sync', 'disable', '--instance', 'Default');
    expect(ourWebhooks()).toEqual([]);
    // An unknown Network Site is named, not listed as having no blocks.
    await cli('sites', 'add', 'CLI-Site');
    expect(await cli('blocks', 'list', '--site', 'CLI-Site')).toEqual([]);
    await expect(cli('blocks', 'list', '--site', 'cli-site')).rejects.toThrow(/no Network Site named 'cli-site' \(names are case-sensitive/);
    expect(printed.join('\n')).not.toContain(TOKEN);
  } finally {
    log.mockRestore();
    process.env = saved;
  }
});

describe('refusals change nothing', () => {
  const state = async () => JSON.stringify(await client.listInstances());

  test('a role filter naming a role NetBox does not have is refused with the roles it has', async () => {
    const before = await state();
    const role = nb.dataset.roles.all()[0];
    await expect(client.setPrefixSync('Default', true, [99999])).rejects.toThrow(
      new RegExp(`no IPAM role with id 99999; its roles are: .*${role.id} \\(${role.name}\\).*nothing was changed`),
    );
    await expect(client.setRoleFilter('Default', [role.id, 99998])).rejects.toThrow(/no IPAM role with id 99998/);
    expect(await state()).toBe(before);
    expect(ourWebhooks()).toEqual([]);
  });

  test('with no worker on the task queue, enable, disable and full sync say what to start instead of hanging', async () => {
    const before = await state();
    const lonely = await PrefixSyncClient.open({ ...config, temporal: { ...config.temporal, taskQueue: 'nobody-polls-this' } }, { temporalAddress: env.address });
    try {
      const started = Date.now();
      await expect(lonely.setPrefixSync('Default', true)).rejects.toThrow(/no worker is polling task queue 'nobody-polls-this'.*npm start/);
      await expect(lonely.runFullSync('Default')).rejects.toThrow(/no worker is polling/);
      await expect(lonely.getConfig()).rejects.toThrow(/no worker is polling/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await lonely.close();
    }
    expect(await state()).toBe(before);
    const stuck = await env.client.workflow.list({ query: `TaskQueue = 'nobody-polls-this'` });
    for await (const w of stuck) throw new Error(`a workflow was started on a queue nobody polls: ${w.workflowId}`);
  });

  test('with Temporal unreachable, enable fails naming the fix and saves nothing', async () => {
    const before = await state();
    const cut = await PrefixSyncClient.open(config, { temporalAddress: '127.0.0.1:1' });
    try {
      await expect(cut.setPrefixSync('Default', true)).rejects.toThrow(/cannot reach Temporal at 127\.0\.0\.1:1.*npm start/);
    } finally {
      await cut.close();
    }
    expect(await state()).toBe(before);
  });

  test('a name that is not allowed is refused before NetBox is contacted', async () => {
    await expect(client.addInstance({ name: "it's", baseUrl: 'http://127.0.0.1:9', token: TOKEN })).rejects.toThrow(/instance name 'it's' is not allowed/);
    await expect(client.updateInstance('Default', { name: 'x'.repeat(101), baseUrl: 'http://127.0.0.1:9' })).rejects.toThrow(/is not allowed/);
    expect((await client.listInstances()).map((i) => i.name)).toEqual(['Default']);
  });

  test('the CLI refuses role ids and page sizes that are not plain whole numbers', () => {
    for (const roles of ['1e3', '0x10', '1.0', '-1', '0', 'abc', '1,,2', '']) {
      expect(() => parseRoles(roles)).toThrow(/give NetBox IPAM role ids/);
    }
    expect(parseRoles(' 4, 1 ')).toEqual([4, 1]);
    expect(parseRoles('None')).toEqual([]);
    for (const size of ['abc', '0', '1001', '2.5', '1e2']) expect(() => parsePageSize(size)).toThrow(/from 1 to 1000/);
    expect(parsePageSize('250')).toBe(250);
  });
});
