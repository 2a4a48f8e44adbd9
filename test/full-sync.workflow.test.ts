/**
 * Workflow level: Full Sync on a real Temporal dev server, reading NetBox's published demo data through
 * the stand-in. Expected counts are computed here straight from the dump's COPY rows, not from the product.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { canonicalCidr } from '../activities/gaiia/target';
import { openConnections, type Connections } from '../activities/connections';
import { failureMessage, PrefixSyncClient } from '../client/prefix-sync-client';
import { createWorker } from '../worker';
import type { FullSyncReport } from '../workflows/importNetworkSitePrefixesFullSync';
import { demoDumpPath, loadDemoDataset, parseCopyBlocks } from './netbox-standin/demo-dump';
import { startNetBoxStandIn, type NetBoxStandIn } from './netbox-standin/server';
import { testConfig } from './support/config';
import { startTemporal, workflowBundle } from './support/temporal';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

/** What a full sync must do, computed from the dump's own rows. */
function expectedFromDump(version: '4.1' | '4.2', networkSites: Set<string>, roleFilter: string[] = []) {
  const tables = parseCopyBlocks(fs.readFileSync(demoDumpPath(version), 'utf8'), [
    'public.ipam_prefix',
    'public.dcim_site',
    'public.django_content_type',
  ]);
  const siteName = new Map(tables.get('public.dcim_site')!.map((r) => [r.id!, r.name!]));
  const contentType = new Map(tables.get('public.django_content_type')!.map((r) => [r.id!, `${r.app_label}.${r.model}`]));
  const prefixes = [...tables.get('public.ipam_prefix')!].sort((a, b) => Number(a.id) - Number(b.id));
  const e = { created: 0, unscoped: 0, nonSiteScope: 0, noMatchingNetworkSite: 0, filteredByRole: 0, conflictingBlock: 0, blocks: [] as string[] };
  const taken = new Set<string>();
  for (const p of prefixes) {
    if (roleFilter.length && !roleFilter.includes(p.role_id ?? '')) {
      e.filteredByRole++;
      continue;
    }
    let site: string | undefined;
    if (version === '4.1') {
      if (p.site_id === null) {
        e.unscoped++;
        continue;
      }
      site = siteName.get(p.site_id!);
    } else {
      if (p.scope_type_id === null) {
        e.unscoped++;
        continue;
      }
      if (contentType.get(p.scope_type_id!) !== 'dcim.site') {
        e.nonSiteScope++;
        continue;
      }
      site = siteName.get(p.scope_id!);
    }
    if (!networkSites.has(site!)) {
      e.noMatchingNetworkSite++;
      continue;
    }
    const key = `${site} ${canonicalCidr(p.prefix!)}`;
    if (taken.has(key)) e.conflictingBlock++;
    else {
      taken.add(key);
      e.created++;
      e.blocks.push(`${key} ${p.description ?? ''}`.trim());
    }
  }
  e.blocks.sort();
  return { ...e, total: prefixes.length };
}

describe.each(['4.2', '4.1'] as const)('NetBox %s demo data', (version) => {
  let netbox: NetBoxStandIn;
  let connections: Connections;
  let client: PrefixSyncClient;
  let worker: Worker;
  let running: Promise<void>;
  let config: ReturnType<typeof testConfig>;
  const networkSites = new Set<string>();

  async function runWorker() {
    worker = await createWorker({ connection: env.nativeConnection, connections, taskQueue: config.temporal.taskQueue, workflowBundle: await workflowBundle() });
    running = worker.run();
  }

  beforeAll(async () => {
    netbox = await startNetBoxStandIn({ version, dataset: loadDemoDataset(version) });
    config = testConfig();
    connections = await openConnections(config);
    client = await PrefixSyncClient.open(config, { temporalAddress: env.address });
    await runWorker();
    await client.addInstance({ baseUrl: netbox.url, token: netbox.token });
    await client.setPrefixSync('Default', true);
    // Most, not all, demo sites get a Network Site; one gets a name that differs only in case.
    const names = netbox.dataset.sites.all().map((s) => s.name).sort();
    for (const [i, name] of names.entries()) {
      if (i % 4 === 3) continue;
      if (i === 0) {
        await client.addNetworkSite(name.toLowerCase());
        continue;
      }
      await client.addNetworkSite(name);
      networkSites.add(name);
    }
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await client?.close();
    await netbox?.close();
  });

  beforeEach(async () => {
    await connections.db.deleteFrom('prefix_block_ledger').execute();
    await connections.db.deleteFrom('ip_blocks').execute();
    await client.setPrefixSync('Default', true, []);
  });

  const blocks = async () => (await client.listIpBlocks()).map((b) => `${b.networkSiteName} ${b.block} ${b.description}`.trim()).sort();

  test('creates exactly the blocks the dump calls for and reports every skip by reason', async () => {
    const expected = expectedFromDump(version, networkSites);
    const report = await client.runFullSync('Default');
    expect(report).toMatchObject({
      instanceName: 'Default',
      netboxPrefixCount: expected.total,
      prefixes: expected.total,
      created: expected.created,
      alreadyPresent: 0,
      skipped: {
        unscoped: expected.unscoped,
        nonSiteScope: expected.nonSiteScope,
        noMatchingNetworkSite: expected.noMatchingNetworkSite,
        filteredByRole: 0,
        conflictingBlock: expected.conflictingBlock,
        ownBlockOnAnotherSite: 0,
      },
    });
    expect(report.netboxVersion.startsWith(version)).toBe(true);
    expect(expected.created).toBeGreaterThan(20);
    expect(expected.noMatchingNetworkSite).toBeGreaterThan(0);
    expect(await blocks()).toEqual(expected.blocks);
  });

  test('a re-run creates nothing new', async () => {
    const first = await client.runFullSync('Default');
    const second = await client.runFullSync('Default');
    expect(second).toMatchObject({ created: 0, updated: 0, alreadyPresent: first.created });
    expect(await blocks()).toHaveLength(first.created);
  });

  test('the role filter is applied and counted; prefixes without a role are left out while it is active', async () => {
    const role = netbox.dataset.roles.all()[0];
    await client.setPrefixSync('Default', true, [role.id]);
    const expected = expectedFromDump(version, networkSites, [String(role.id)]);
    const report = await client.runFullSync('Default');
    expect(report.created).toBe(expected.created);
    expect(report.skipped.filteredByRole).toBe(expected.filteredByRole);
    expect(await blocks()).toEqual(expected.blocks);
    // Server-side: every prefix request carried the filter.
    const prefixRequests = netbox.requests.map((r) => ({ ...r, params: new URLSearchParams(r.query) })).filter((r) => r.path === '/api/ipam/prefixes/' && r.params.has('id__gt'));
    expect(prefixRequests.at(-1)!.params.getAll('role_id')).toEqual([String(role.id)]);
  });

  test('a block made by hand with the same CIDR is left untouched and reported as a conflict', async () => {
    const expected = expectedFromDump(version, networkSites);
    const [site, cidr] = expected.blocks[0].split(' ');
    const manual = await client.addManualIpBlock(site, cidr, 'made by hand');
    const report = await client.runFullSync('Default');
    expect(report.created).toBe(expected.created - 1);
    expect(report.skipped.conflictingBlock).toBe(expected.conflictingBlock + 1);
    expect(report.conflicts).toEqual(expect.arrayContaining([expect.objectContaining({ cidr, networkSite: site })]));
    const after = (await client.listIpBlocks()).find((b) => b.id === manual.id);
    expect(after).toMatchObject({ block: cidr, description: 'made by hand', integrationId: null });
    expect(await connections.db.selectFrom('prefix_block_ledger').select('ip_block_id').where('ip_block_id', '=', manual.id).execute()).toEqual([]);
  });

  test('continue-as-new keeps runs short and loses nothing', async () => {
    const expected = expectedFromDump(version, networkSites);
    const report = await client.runFullSync('Default', { pageSize: 7, pagesPerRun: 3 });
    expect(report.created).toBe(expected.created);
    expect(report.pages).toBe(Math.ceil(expected.total / 7) + (expected.total % 7 === 0 ? 1 : 0));
    expect(report.runs).toBeGreaterThan(3);
  });
});

describe('refusals and faults', () => {
  let netbox: NetBoxStandIn;
  let connections: Connections;
  let client: PrefixSyncClient;
  let worker: Worker;
  let running: Promise<void>;
  let config: ReturnType<typeof testConfig>;

  beforeAll(async () => {
    netbox = await startNetBoxStandIn({ version: '4.2', dataset: loadDemoDataset('4.2') });
    config = testConfig();
    connections = await openConnections(config);
    client = await PrefixSyncClient.open(config, { temporalAddress: env.address });
    worker = await createWorker({ connection: env.nativeConnection, connections, taskQueue: config.temporal.taskQueue, workflowBundle: await workflowBundle() });
    running = worker.run();
    await client.addInstance({ baseUrl: netbox.url, token: netbox.token });
    for (const s of netbox.dataset.sites.all()) await client.addNetworkSite(s.name);
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await client?.close();
    await netbox?.close();
  });

  const startFromUi = (input: unknown) =>
    env.client.workflow.execute('importNetworkSitePrefixesFullSync', {
      taskQueue: config.temporal.taskQueue,
      workflowId: `ui-${Math.random()}`,
      args: [input],
    });
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected the workflow to fail');
      },
      (err: unknown) => {
        expect(err).toBeInstanceOf(WorkflowFailedError);
        return failureMessage(err);
      },
    );

  test('refused while prefix sync is disabled, and nothing changes', async () => {
    await client.setPrefixSync('Default', false);
    expect(await failure(startFromUi({ instanceName: 'Default' }))).toMatch(
      /instance 'Default' has prefix sync disabled; enable it before a full sync/,
    );
    expect(await client.listIpBlocks()).toEqual([]);
    expect(netbox.requests.filter((r) => r.path.startsWith('/api/ipam/prefixes/'))).toHaveLength(1); // the check at add
  });

  test('an unknown instance fails at once, naming the known ones', async () => {
    expect(await failure(startFromUi({ instanceName: 'default' }))).toMatch(/no NetBox instance named 'default'; known instances: 'Default'/);
  });

  test('input that is not {"instanceName": ...} fails with the shape to use', async () => {
    expect(await failure(startFromUi('Default'))).toMatch(/must be \{"instanceName": "<NetBox instance name>"\}/);
    expect(await failure(startFromUi({ instanceName: 'Default', pageSize: 0 }))).toMatch(/pageSize must be a whole number/);
  });

  test('NetBox answering 500 for a while: retried, then the sync completes', async () => {
    await client.setPrefixSync('Default', true);
    // More failures than the client's own attempts: the activity fails once and Temporal retries it.
    netbox.faults.failNext(5, 500, '/api/ipam/prefixes/');
    const report = await client.runFullSync('Default');
    expect(report.created).toBeGreaterThan(50);
    expect(report.alreadyPresent).toBe(0);
  });

  test('a rejected token (403 Invalid token) fails at once, without retrying, with the fix in the message', async () => {
    await client.setPrefixSync('Default', true);
    const instance = await connections.instances.requireByName('Default');
    await connections.instances.update(instance.id, { token: 'b'.repeat(40) });
    const before = netbox.requests.length;
    const started = Date.now();
    const err = await client.runFullSync('Default').catch((e: Error) => e);
    expect((err as Error).message).toMatch(/rejected the API token \(403 Invalid token.*update it/);
    expect((err as Error).message).not.toContain('b'.repeat(40));
    expect(netbox.requests.length - before).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    await connections.instances.update(instance.id, { token: netbox.token });
  });

  /** Starts a full sync of small, slow pages and runs `during` once a few pages are in. */
  async function interrupted(during: () => Promise<void>) {
    await client.setPrefixSync('Default', true);
    await connections.db.deleteFrom('prefix_block_ledger').execute();
    await connections.db.deleteFrom('ip_blocks').execute();
    netbox.faults.delayNext(150, 1000, '/api/ipam/prefixes/');
    const run = client.runFullSync('Default', { pageSize: 2 }).catch((e: Error) => e);
    while ((await client.listIpBlocks()).length < 4) await new Promise((r) => setTimeout(r, 50));
    await during();
    const err = await run;
    netbox.faults.clear();
    expect(err).toBeInstanceOf(Error);
    return { message: (err as Error).message, blocks: (await client.listIpBlocks()).length };
  }

  test('disabled during a full sync: it stops, keeps what it made, and says so truthfully', async () => {
    const instance = await connections.instances.requireByName('Default');
    const { message, blocks } = await interrupted(() => connections.instances.setPrefixSync(instance.id, false).then(() => undefined));
    expect(message).toMatch(/prefix sync of 'Default' was disabled during the full sync; it stopped after \d+ pages? \(\d+ prefixes looked at, (\d+) IP Blocks created, which are kept\)/);
    expect(message).not.toMatch(/enable it before a full sync/);
    expect(Number(/(\d+) IP Blocks created/.exec(message)![1])).toBe(blocks);
  });

  test('token revoked during a full sync: the error names the fix and what was done before it', async () => {
    const instance = await connections.instances.requireByName('Default');
    const { message, blocks } = await interrupted(() => connections.instances.update(instance.id, { token: 'e'.repeat(40) }).then(() => undefined));
    await connections.instances.update(instance.id, { token: netbox.token });
    expect(message).toMatch(/rejected the API token \(403 Invalid token.*update it/);
    expect(message).toMatch(/the full sync stopped after \d+ pages? \(\d+ prefixes looked at, (\d+) IP Blocks created, which are kept\)/);
    expect(Number(/(\d+) IP Blocks created/.exec(message)![1])).toBe(blocks);
    expect(message).not.toContain('e'.repeat(40));
  });
});

describe('a worker killed mid-run', () => {
  test('resumes on another worker without duplicates or gaps', async () => {
    const netbox = await startNetBoxStandIn({ version: '4.2', dataset: loadDemoDataset('4.2') });
    const config = testConfig();
    const connections = await openConnections(config);
    const client = await PrefixSyncClient.open(config, { temporalAddress: env.address });
    let child: ChildProcess | undefined;
    let worker: Worker | undefined;
    let running: Promise<void> | undefined;
    try {
      await client.addInstance({ baseUrl: netbox.url, token: netbox.token });
      // No worker polls yet, so only save the setting: registering the webhook would wait for one.
      await client.setPrefixSync('Default', true, undefined, { manageWebhook: false });
      for (const s of netbox.dataset.sites.all()) await client.addNetworkSite(s.name);

      child = spawn(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '..', 'worker.ts')], {
        env: {
          ...process.env,
          NPS_DATA_DIR: config.dataDir,
          DATABASE_URL: config.databaseUrl,
          NPS_SECRET_KEY: config.secretKey,
          TEMPORAL_ADDRESS: env.address,
          TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
          LOG_LEVEL: 'WARN',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await new Promise<void>((resolve, reject) => {
        child!.stdout!.on('data', (d: Buffer) => d.toString().includes('polling') && resolve());
        child!.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
      });

      // Every page is slow, so the kill lands mid-run; the page in flight is retried after the heartbeat timeout.
      netbox.faults.delayNext(300, 1000, '/api/ipam/prefixes/');
      const handle = await client.startFullSync('Default', { pageSize: 10 });
      const deadline = Date.now() + 60_000;
      while ((await client.listIpBlocks()).length < 15 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGKILL');
      const killedWith = (await client.listIpBlocks()).length;
      expect(killedWith).toBeGreaterThan(0);

      worker = await createWorker({ connection: env.nativeConnection, connections, taskQueue: config.temporal.taskQueue, workflowBundle: await workflowBundle() });
      running = worker.run();
      const report = (await handle.result()) as FullSyncReport;

      const all = await client.listIpBlocks();
      const keys = all.map((b) => `${b.networkSiteName} ${b.block}`);
      expect(new Set(keys).size).toBe(keys.length);
      const ledger = await connections.db.selectFrom('prefix_block_ledger').selectAll().execute();
      expect(ledger).toHaveLength(all.length);
      expect(report.prefixes).toBe(90);
      expect(report.created + report.alreadyPresent).toBe(all.length);
      expect(all.length).toBeGreaterThan(killedWith);
    } finally {
      child?.kill('SIGKILL');
      worker?.shutdown();
      await running;
      await client.close();
      await netbox.close();
    }
  });
});
