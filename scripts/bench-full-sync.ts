/**
 * Full Sync benchmark (prints figures; not a test). A generated NetBox of 100,000 prefixes over 1,000 sites
 * is served by the stand-in; the worker runs in its own process so its peak memory is its own.
 *
 *   npm run bench:full-sync [-- --prefixes 100000 --sites 1000 --page-size 1000]
 *
 * Prints: wall time, prefixes/s, the fetch floor (paging through the same data with the same page size and
 * doing nothing else) and the ratio to it, history events per run, and the worker's peak RSS.
 * Aims: within 2x the fetch floor, worker under 300 MB.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NetBoxClient } from '../activities/netbox/client';
import { loadConfig } from '../activities/store/config';
import { fullSyncWorkflowId, PrefixSyncClient } from '../client/prefix-sync-client';
import { startDevServer } from '../client/temporal-server';
import { generateDataset } from '../test/netbox-standin/generate';
import { startNetBoxStandIn } from '../test/netbox-standin/server';
import { bundleWorkflows } from './bundle-workflows';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const prefixes = arg('prefixes', 100_000);
  const sites = arg('sites', 1_000);
  const pageSize = arg('page-size', 1000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nps-bench-'));
  const env = {
    ...process.env,
    NPS_DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${path.join(dataDir, 'store.sqlite')}`,
    NPS_SECRET_KEY: crypto.randomBytes(32).toString('base64'),
    TEMPORAL_TASK_QUEUE: 'bench-full-sync',
    LOG_LEVEL: 'WARN',
    TEMPORAL_DEV_PORT: String(17233 + Math.floor(Math.random() * 1000)),
  };
  const config = loadConfig(env);
  // The worker runs as production would: compiled JavaScript with a pre-built workflow bundle.
  const root = path.resolve(__dirname, '..');
  console.log('compiling (npm run build) and bundling workflows…');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
  const bundlePath = await bundleWorkflows(path.join(dataDir, 'workflow-bundle.js'));

  console.log(`generating a NetBox of ${prefixes} prefixes over ${sites} sites…`);
  const dataset = generateDataset({ prefixes, sites, seed: 42 });
  const netbox = await startNetBoxStandIn({ version: '4.2', dataset });
  const temporal = await startDevServer(config, { dbFile: null, uiPort: 0 });
  const heapMb = arg('worker-heap-mb', 0);
  const worker = spawn(process.execPath, [...(heapMb ? [`--max-old-space-size=${heapMb}`] : []), path.join(root, 'dist', 'worker.js')], {
    env: { ...env, TEMPORAL_ADDRESS: temporal.address, WORKFLOW_BUNDLE_PATH: bundlePath },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    worker.stdout!.on('data', (d: Buffer) => d.toString().includes('polling') && resolve());
    worker.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
  });

  const idleKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${worker.pid}/status`, 'utf8'))?.[1] ?? 0);
  try {
    // Fetch floor: the same pages, the same client, nothing else.
    const floorClient = new NetBoxClient({ baseUrl: netbox.url, token: netbox.token });
    let t = performance.now();
    let fetched = 0;
    for (let afterId = 0, done = false; !done; ) {
      const page = await floorClient.prefixesAfter(afterId, pageSize);
      fetched += page.prefixes.length;
      afterId = page.lastId;
      done = page.done;
    }
    const floorS = (performance.now() - t) / 1000;

    const client = await PrefixSyncClient.open(config, { temporalAddress: temporal.address });
    const instance = await client.addInstance({ baseUrl: netbox.url, token: netbox.token });
    await client.setPrefixSync(instance.name, true);
    const siteNames = [...new Set(dataset.sites.all().map((s) => s.name))];
    for (const name of siteNames.filter((_, i) => i % 10 !== 9)) await client.addNetworkSite(name);

    t = performance.now();
    const report = await client.runFullSync(instance.name, { pageSize });
    const syncS = (performance.now() - t) / 1000;
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${worker.pid}/status`, 'utf8'))?.[1] ?? 0);

    const temporalClient = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    const runs: number[] = [];
    for await (const run of temporalClient.workflow.list({ query: `WorkflowId = '${fullSyncWorkflowId(instance.id, config.temporal.taskQueue)}'` })) {
      const history = await temporalClient.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      runs.push(history.events?.length ?? 0);
    }

    const rerunStart = performance.now();
    const rerun = await client.runFullSync(instance.name, { pageSize });
    const rerunS = (performance.now() - rerunStart) / 1000;

    console.log('\nFull Sync benchmark');
    console.log(`  prefixes in NetBox:        ${fetched} (${sites} sites, page size ${pageSize}, NetBox 4.2 shapes)`);
    console.log(`  created / skipped:         ${report.created} / ${Object.values(report.skipped).reduce((a, b) => a + b, 0)}`);
    console.log(`  wall time:                 ${syncS.toFixed(2)} s`);
    console.log(`  prefixes/s:                ${Math.round(report.prefixes / syncS)}`);
    console.log(`  fetch floor:               ${floorS.toFixed(2)} s (${Math.round(fetched / floorS)} prefixes/s)`);
    console.log(`  ratio to fetch floor:      ${(syncS / floorS).toFixed(2)}x (aim: within 2x)`);
    console.log(`  workflow runs:             ${runs.length} (continue-as-new)`);
    console.log(`  history events per run:    ${runs.join(', ')} (limit 51,200; warning at 10,240)`);
    console.log(`  worker peak RSS:           ${(peakKb / 1024).toFixed(0)} MB (aim: under 300 MB; ${(idleKb / 1024).toFixed(0)} MB idle before the sync)`);
    console.log(`  re-run:                    ${rerunS.toFixed(2)} s, created ${rerun.created}, already present ${rerun.alreadyPresent}`);
    await temporalClient.connection.close();
    await client.close();
  } finally {
    worker.kill('SIGTERM');
    await temporal.stop();
    await netbox.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`benchmark failed: ${(err as Error).stack}`);
    process.exit(1);
  },
);
