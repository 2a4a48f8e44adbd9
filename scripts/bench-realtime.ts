/**
 * Real-time sync benchmark (prints figures; not a test). The stack (`cli.ts start`: worker + receiver) runs in its
 * own process against a Temporal dev server; the NetBox stand-in (4.2 shapes, a generated NetBox) sends signed
 * webhooks to it exactly as NetBox's RQ workers would.
 *
 *   npm run bench:realtime [-- --prefixes 2000 --sites 20 --events 10000 --concurrency 64 --rate 50 --seconds 20
 *                              --history-limit 1000]
 *
 * `--history-limit` starts the workflow ahead of the first webhook with that history limit (default: the workflow's
 * own, 250 events, which the steady phase crosses several times).
 *
 * 1. Burst: `--events` prefix edits, then their webhooks sent by `--concurrency` delivery workers at once:
 *    accepted webhooks per second (2xx = Temporal durably holds the signal), the time until all are applied,
 *    and the workflow's history per run (continue-as-new keeps it bounded).
 * 2. Steady: `--rate` edits per second for `--seconds`, each delivered at once: latency from the NetBox change to
 *    the IP Block written in the committing transaction (ip_blocks.updated_at), p50/p99.
 * 3. Final state: the IP Blocks equal a fresh recomputation from the stand-in's data; no delivery failed.
 * Aims: ≥ 200 accepted/s; p99 ≤ 1 s at 50/s; nothing lost.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { openConnections } from '../activities/connections';
import { loadConfig } from '../activities/store/config';
import { startDevServer } from '../client/temporal-server';
import { importNetworkSitePrefixes, realtimeStatusQuery, realtimeWorkflowId, type RealtimeSyncStatus } from '../workflows/importNetworkSitePrefixes';
import { generateDataset } from '../test/netbox-standin/generate';
import { startNetBoxStandIn, type NetBoxStandIn } from '../test/netbox-standin/server';
import { expectedBlocks, registerWebhook } from '../test/support/realtime';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const prefixes = arg('prefixes', 2_000);
  const sites = arg('sites', 20);
  const events = arg('events', 10_000);
  const concurrency = arg('concurrency', 64);
  const rate = arg('rate', 50);
  const seconds = arg('seconds', 20);
  const historyLimit = arg('history-limit', 0);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nps-bench-rt-'));
  const env = {
    ...process.env,
    NPS_DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${path.join(dataDir, 'store.sqlite')}`,
    NPS_SECRET_KEY: crypto.randomBytes(32).toString('base64'),
    TEMPORAL_TASK_QUEUE: 'bench-realtime',
    TEMPORAL_DEV_PORT: String(await freePort()),
    RECEIVER_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const dataset = generateDataset({ prefixes, sites, seed: 7 });
  // Manual delivery: the benchmark decides when NetBox's workers send (all at once for the burst, at once per edit later).
  const nb = await startNetBoxStandIn({ version: '4.2', dataset, deliveries: 'manual', deliveryConcurrency: concurrency });
  // A SQLite-backed dev server: the signal is on disk when the receiver answers 2xx.
  const temporal = await startDevServer(config, { uiPort: 0 });
  const stack = spawn(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '..', 'client', 'cli.ts'), 'start'], {
    env: { ...env, TEMPORAL_ADDRESS: temporal.address },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    stack.stdout!.on('data', (d: Buffer) => d.toString().includes('stack running') && resolve());
    stack.once('exit', (code) => reject(new Error(`the stack exited (${code})`)));
  });

  const connections = await openConnections(config);
  const temporalClient = new Client({ connection: await Connection.connect({ address: temporal.address }) });
  try {
    const instance = await connections.instances.create({ baseUrl: nb.url, token: nb.token });
    await connections.instances.setPrefixSync(instance.id, true);
    const secret = crypto.randomBytes(24).toString('hex');
    await connections.instances.setWebhookSecret(instance.id, secret);
    await registerWebhook(nb, `${config.receiver.publicUrl}/webhooks/netbox?instanceId=${instance.id}`, secret);
    const networkSites = [...new Set(dataset.sites.all().map((s) => s.name))];
    for (const name of networkSites) await connections.gaiia.createNetworkSite(name);
    const ids = dataset.prefixes.all().map((p) => p.id);
    const handle = temporalClient.workflow.getHandle(realtimeWorkflowId(instance.id, config.temporal.taskQueue));
    if (historyLimit) {
      await temporalClient.workflow.start(importNetworkSitePrefixes, {
        workflowId: handle.workflowId,
        taskQueue: config.temporal.taskQueue,
        args: [{ instanceId: instance.id, historyLimit }],
      });
    }
    const settle = async (accepted: number): Promise<RealtimeSyncStatus> => {
      for (;;) {
        const s = await handle.query(realtimeStatusQuery).catch(() => null);
        if (s && s.changesReceived >= accepted && s.pendingPrefixes + s.pendingSites + s.applying === 0) return s;
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // 1. Burst
    console.log(`burst: ${events} prefix edits over ${ids.length} prefixes, delivered by ${concurrency} concurrent workers…`);
    for (let k = 0; k < events; k++) nb.updatePrefix(ids[k % ids.length], { description: `burst ${k}` });
    let t = performance.now();
    const burst = await nb.deliver();
    const burstS = (performance.now() - t) / 1000;
    const burstOk = burst.filter((r) => r.ok).length;
    const burstStatus = await settle(burstOk);
    const drainS = (performance.now() - t) / 1000;

    // 2. Steady rate: each edit is delivered right away, as NetBox's workers would.
    console.log(`steady: ${rate} edits/s for ${seconds} s…`);
    const editedAt = new Map<string, number>();
    // How long each steady webhook waited for the receiver's answer (2xx = durably accepted by Temporal).
    const answered: number[] = [];
    const sends: Array<Promise<unknown>> = [];
    const steadyIds = ids.slice(0, rate * seconds);
    const start = Date.now();
    for (let k = 0; k < steadyIds.length; k++) {
      const due = start + (k * 1000) / rate;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const description = `steady ${k}`;
      editedAt.set(description, Date.now());
      nb.updatePrefix(steadyIds[k], { description });
      const sent = Date.now();
      sends.push(nb.deliver(nb.pendingDeliveries().map((d) => d.id)).then(() => answered.push(Date.now() - sent)));
    }
    await Promise.all(sends);
    const finalStatus = await settle(nb.deliveryLog.filter((r) => r.ok).length);
    const written = await connections.db.selectFrom('ip_blocks').select(['description', 'updated_at']).where('description', 'like', 'steady %').execute();
    const latencies = written.map((b) => Date.parse(b.updated_at) - editedAt.get(b.description)!).sort((a, b) => a - b);
    // Prefixes that are not site-scoped (or whose site has no Network Site) get no block: they are not measured.
    const measurable = steadyIds.filter((id) => dataset.prefixes.get(id)!.scopeType === 'dcim.site').length;

    // 3. Final state
    const blocks = (await connections.gaiia.listAllIpBlocks()).map((b) => `${b.networkSiteName} ${b.block} ${b.description}`.trim()).sort();
    const expected = expectedBlocks(nb, networkSites);
    const same = blocks.length === expected.length && blocks.every((b, i) => b === expected[i]);
    const failures = nb.deliveryLog.filter((r) => !r.ok);
    const failed = failures.length;
    for (const f of failures.slice(0, 5)) console.log(`  failed delivery: ${f.event} ${f.objectType} ${f.objectId}: ${f.status ?? ''} ${f.error ?? ''}`);

    const runs: Array<{ events: number }> = [];
    // Workflow tasks that failed or timed out. A continue-as-new bounced by a racing signal fails with
    // UnhandledCommand; the server then refuses signals until the retried task (a full replay) completes: the
    // "closing window" a webhook may have to wait out.
    const taskTrouble = new Map<string, number>();
    const closingWindows: number[] = [];
    for await (const run of temporalClient.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
      const history = (await temporalClient.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events ?? [];
      runs.push({ events: history.length });
      const at = (i: number) => Number(history[i].eventTime?.seconds ?? 0) * 1000 + Math.floor((history[i].eventTime?.nanos ?? 0) / 1e6);
      history.forEach((e, i) => {
        const failedCause = e.workflowTaskFailedEventAttributes?.cause;
        const trouble =
          failedCause != null
            ? `failed (${failedCause === UNHANDLED_COMMAND ? 'UnhandledCommand' : `cause ${failedCause}`})`
            : e.workflowTaskTimedOutEventAttributes
              ? `timed out (${['?', 'start-to-close', 'schedule-to-start'][e.workflowTaskTimedOutEventAttributes.timeoutType ?? 0] ?? '?'})`
              : null;
        if (trouble) taskTrouble.set(trouble, (taskTrouble.get(trouble) ?? 0) + 1);
        if (failedCause === UNHANDLED_COMMAND) {
          const started = history.findIndex((x, j) => j > i && x.workflowTaskStartedEventAttributes);
          const completed = history.findIndex((x, j) => j > i && x.workflowTaskCompletedEventAttributes);
          if (started > 0 && completed > 0) closingWindows.push(at(completed) - at(started));
        }
      });
    }
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${stack.pid}/status`, 'utf8'))?.[1] ?? 0);
    const pctOf = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
    const pct = (p: number) => pctOf(latencies, p);
    answered.sort((a, b) => a - b);

    console.log('\nReal-time sync benchmark (NetBox 4.2 shapes, stand-in → receiver → Temporal → worker, one machine)');
    console.log(`  NetBox:                      ${ids.length} prefixes over ${sites} sites; ${networkSites.length} Network Sites`);
    console.log(`  burst webhooks:              ${events} sent by ${concurrency} concurrent workers, ${burstOk} accepted`);
    console.log(`  accepted/s:                  ${Math.round(burstOk / burstS)} (${burstS.toFixed(2)} s; aim ≥ 200/s)`);
    console.log(`  burst applied after:         ${drainS.toFixed(2)} s (${burstStatus.batches} batches, ${burstStatus.prefixesReread} prefix re-reads)`);
    console.log(`  steady rate:                 ${rate}/s for ${seconds} s (${steadyIds.length} edits, ${measurable} with a block to write)`);
    console.log(`  webhook answered after:      p50 ${pctOf(answered, 50)} ms, p99 ${pctOf(answered, 99)} ms, max ${answered.at(-1)} ms`);
    console.log(`  change → committed IP Block: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies.at(-1)} ms over ${latencies.length} blocks (aim p99 ≤ 1000 ms)`);
    console.log(`  workflow runs:               ${runs.length} (${finalStatus.runs - burstStatus.runs} continue-as-new during the steady phase); history events per run: ${runs.map((r) => r.events).join(', ')} (limit 51,200; warning at 10,240)`);
    console.log(`  workflow task trouble:       ${[...taskTrouble].map(([k, n]) => `${n}× ${k}`).join(', ') || 'none'}`);
    if (closingWindows.length) console.log(`  closing windows:             ${closingWindows.sort((a, b) => a - b).join(', ')} ms (signals refused meanwhile)`);
    console.log(`  totals:                      ${finalStatus.changesReceived} changes received, created ${finalStatus.counts.created}, updated ${finalStatus.counts.updated}, failed batches ${finalStatus.failedBatches}`);
    console.log(`  stack (worker+receiver) RSS: ${(peakKb / 1024).toFixed(0)} MB peak`);
    console.log(`  final state:                 ${same ? 'OK' : 'MISMATCH'}: ${blocks.length} IP Blocks, ${expected.length} expected from NetBox; ${failed} failed deliveries`);
    if (!same || failed || latencies.length !== measurable) process.exitCode = 1;
  } finally {
    await temporalClient.connection.close();
    stack.kill('SIGTERM');
    await new Promise((r) => stack.once('exit', r));
    await temporal.stop();
    await nb.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND */
const UNHANDLED_COMMAND = 1;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(`benchmark failed: ${(err as Error).stack}`);
    process.exit(1);
  },
);
