/**
 * The main job: brings up the embedded stack and runs a real full sync of NetBox's published demo data
 * (shared/netbox-demo-data, the 4.1 and the 4.2 dump) into Network Sites named after most, not all, of the
 * demo sites, then prints each report and the IP Blocks.
 *
 *   npm run demo                      # both demo dumps, served by the NetBox stand-in (a test fixture)
 *   NETBOX_URL=… NETBOX_TOKEN=… npm run demo   # the same against a real NetBox
 *   npm run demo -- --keep-running    # leave the Temporal Web UI up afterwards
 *
 * Each source gets its own store under .data/main-job/, emptied at every run (both dumps hold the same
 * sites and prefixes, and one instance never takes over another's blocks). The operator's own store is
 * never touched, and prefix sync is disabled again at the end, so no webhook of ours is left in NetBox.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { NetBoxClient } from '../activities/netbox/client';
import { loadConfig, type AppConfig } from '../activities/store/config';
import { formatReport } from '../client/cli';
import { fullSyncWorkflowId, PrefixSyncClient } from '../client/prefix-sync-client';
import { startStack } from '../client/stack';
import { startDevServer, type DevServer } from '../client/temporal-server';
import { loadDemoDataset, requireDemoData } from '../test/netbox-standin/demo-dump';
import { startNetBoxStandIn, type NetBoxStandIn } from '../test/netbox-standin/server';

interface Source {
  label: string;
  instanceName: string;
  config: AppConfig;
  url: string;
  token: string;
  /** The demo's stand-in, where the job also makes a few changes to show real-time sync. */
  standIn?: NetBoxStandIn;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  // The job prints its own report; the receiver logs only problems (LOG_LEVEL=info shows each webhook).
  process.env.LOG_LEVEL ??= 'warn';
  const keepRunning = process.argv.includes('--keep-running');
  const base = loadConfig();
  if (!process.env.NETBOX_URL) requireDemoData();
  let devServer: DevServer | undefined;
  let temporalAddress = base.temporal.address;
  if (!temporalAddress) {
    devServer = await startDevServer(base, { log: console.log });
    temporalAddress = devServer.address;
    console.log(`Temporal dev server on ${temporalAddress}; Web UI at ${devServer.uiUrl}`);
  }

  const sources = await openSources(base);
  try {
    for (const source of sources) await syncOne(source, temporalAddress);
    if (keepRunning && devServer) {
      console.log(`\nTemporal Web UI: ${devServer.uiUrl} (workflows of this run are listed there). Ctrl-C stops it.`);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    }
  } finally {
    for (const source of sources) await source.close();
    await devServer?.stop();
  }
}

async function openSources(base: AppConfig): Promise<Source[]> {
  // The demo's own stores start empty on every run, so each run shows the data flowing in.
  fs.rmSync(path.join(base.dataDir, 'main-job'), { recursive: true, force: true });
  if (process.env.NETBOX_URL) {
    if (!process.env.NETBOX_TOKEN) throw new Error('NETBOX_URL is set but NETBOX_TOKEN is not: set both to sync from a real NetBox');
    return [{
      label: `NetBox at ${process.env.NETBOX_URL}`,
      instanceName: process.env.NETBOX_INSTANCE_NAME ?? 'Default',
      config: demoConfig(base, 'netbox', base.receiver),
      url: process.env.NETBOX_URL,
      token: process.env.NETBOX_TOKEN,
      close: async () => {},
    }];
  }
  const sources: Source[] = [];
  for (const version of ['4.2', '4.1'] as const) {
    const standIn = await startNetBoxStandIn({ version, dataset: loadDemoDataset(version) });
    // A receiver of its own on a free loopback port, so the demo runs beside `npm start`.
    const receiverPort = await freePort();
    sources.push({
      label: `NetBox ${version} demo data (shared/netbox-demo-data/netbox-demo-v${version}.sql, served by the stand-in at ${standIn.url})`,
      instanceName: 'Default',
      config: demoConfig(base, `netbox-demo-v${version}`, {
        host: '127.0.0.1',
        port: receiverPort,
        publicUrl: `http://127.0.0.1:${receiverPort}`,
      }),
      url: standIn.url,
      token: standIn.token,
      standIn,
      close: () => standIn.close(),
    });
  }
  return sources;
}

async function syncOne(source: Source, temporalAddress: string): Promise<void> {
  console.log(`\n=== ${source.label}`);
  const stack = await startStack(source.config, { temporalAddress, log: () => {} });
  const client = await PrefixSyncClient.open(source.config, { temporalAddress });
  try {
    const existing = (await client.listInstances()).find((i) => i.name === source.instanceName);
    if (existing) await client.updateInstance(source.instanceName, { baseUrl: source.url, token: source.token });
    else await client.addInstance({ name: source.instanceName, baseUrl: source.url, token: source.token });
    const enabled = await client.setPrefixSync(source.instanceName, true);
    console.log(`Prefix sync enabled: NetBox now calls ${enabled.webhook?.payloadUrl ?? '(no webhook registered)'} for prefix and site changes`);

    // gaiia's side: Network Sites named after most of NetBox's sites (every fifth is left out on purpose,
    // so the report shows prefixes skipped for having no Network Site of that exact name).
    const netbox = new NetBoxClient({ baseUrl: source.url, token: source.token });
    const siteNames: string[] = [];
    for await (const site of netbox.paginate('/api/dcim/sites/', { ordering: 'name' })) siteNames.push((site as { name: string }).name);
    const chosen = siteNames.filter((_, i) => i % 5 !== 4);
    for (const name of chosen) await client.addNetworkSite(name);
    console.log(`Network Sites: ${chosen.length} of NetBox's ${siteNames.length} sites (left out: ${siteNames.filter((n) => !chosen.includes(n)).join(', ') || 'none'})`);

    const started = Date.now();
    const report = await client.runFullSync(source.instanceName);
    console.log(formatReport(report));
    const workflowId = fullSyncWorkflowId((await client.getInstance(source.instanceName)).id, source.config.temporal.taskQueue);
    console.log(`  took ${((Date.now() - started) / 1000).toFixed(1)} s (workflow id ${workflowId}, task queue ${source.config.temporal.taskQueue})`);

    const rerun = await client.runFullSync(source.instanceName);
    console.log(`Re-run: created ${rerun.created}, already present ${rerun.alreadyPresent} (a full sync is idempotent)`);

    if (source.standIn) await showRealtime(source.standIn, client, chosen);

    const blocks = await client.listIpBlocks();
    console.log(`\nIP Blocks now in the embedded gaiia target (${blocks.length}):`);
    const bySite = new Map<string, string[]>();
    for (const b of blocks) bySite.set(b.networkSiteName, [...(bySite.get(b.networkSiteName) ?? []), b.description ? `${b.block} (${b.description})` : b.block]);
    for (const [site, list] of bySite) console.log(`  ${site.padEnd(16)} ${list.join(', ')}`);
    await client.setPrefixSync(source.instanceName, false);
    console.log('\nPrefix sync disabled again: our webhook and event rules are gone from that NetBox.');
  } finally {
    await client.close();
    await stack.stop();
  }
}

/** A store of the demo's own under .data/main-job/<name>, with its own task queue. */
function demoConfig(base: AppConfig, name: string, receiver: AppConfig['receiver']): AppConfig {
  const dataDir = path.join(base.dataDir, 'main-job', name);
  return {
    ...base,
    dataDir,
    databaseUrl: `sqlite:${path.join(dataDir, 'netbox-prefix-sync.sqlite')}`,
    temporal: { ...base.temporal, taskQueue: `${base.temporal.taskQueue}-demo-${name}` },
    receiver,
  };
}

/** Makes a few changes in the demo NetBox and times each until gaiia shows it (signed webhook → receiver → workflow). */
async function showRealtime(netbox: NetBoxStandIn, client: PrefixSyncClient, networkSites: string[]): Promise<void> {
  const site = netbox.dataset.sites.all().find((s) => s.name === networkSites[0])!;
  const blocksOn = async () => (await client.listIpBlocks()).filter((b) => b.networkSiteName === site.name);
  const timed = async (what: string, change: () => void, done: (blocks: Awaited<ReturnType<typeof blocksOn>>) => boolean) => {
    const started = Date.now();
    change();
    while (!done(await blocksOn())) {
      if (Date.now() - started > 30_000) throw new Error(`real-time sync did not show '${what}' within 30 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(`  ${what}: on Network Site '${site.name}' after ${Date.now() - started} ms`);
  };
  console.log('\nReal-time sync (changes made in NetBox, delivered as signed webhooks):');
  let id = 0;
  await timed('prefix 192.0.2.0/24 created', () => (id = netbox.createPrefix({ prefix: '192.0.2.0/24', siteId: site.id, description: 'demo' }).id), (b) => b.some((x) => x.block === '192.0.2.0/24'));
  await timed('its CIDR changed to 192.0.2.0/25', () => netbox.updatePrefix(id, { prefix: '192.0.2.0/25' }), (b) => b.some((x) => x.block === '192.0.2.0/25') && !b.some((x) => x.block === '192.0.2.0/24'));
  await timed('prefix deleted', () => netbox.deletePrefix(id), (b) => !b.some((x) => x.block.startsWith('192.0.2.')));
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Ctrl-C or a closed pipe: exit through process.exit so the dev server and stand-ins are stopped.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(130));
process.stdout.on('error', () => process.exit(1));

main().catch((err) => {
  console.error(`main job failed: ${(err as Error).message}`);
  process.exit(1);
});
