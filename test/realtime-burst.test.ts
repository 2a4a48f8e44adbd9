/**
 * Bounded history: a burst of 10,000 webhooks, sent by many concurrent NetBox workers, while the workflow is made
 * to continue as new every few hundred events. No delivery fails, no run's history comes near Temporal's limits,
 * nothing queued is lost across the runs, and the IP Blocks end equal to NetBox.
 */
import { generateDataset } from './netbox-standin';
import { importNetworkSitePrefixes, realtimeWorkflowId } from '../workflows/importNetworkSitePrefixes';
import { RealtimeHarness, expectedBlocks } from './support/realtime';

let h: RealtimeHarness;

beforeAll(async () => {
  h = await RealtimeHarness.start();
}, 120_000);

afterAll(async () => {
  await h?.close();
});

test('10,000 webhooks across many continue-as-new runs: nothing lost, every run far below the history limits', async () => {
  const dataset = generateDataset({ prefixes: 500, sites: 5, seed: 3 });
  const { nb, instanceId } = await h.addInstance({ version: '4.2', dataset, deliveries: 'manual', deliveryConcurrency: 32 });
  const networkSites = [...new Set(dataset.sites.all().map((s) => s.name))];
  await h.addNetworkSites(...networkSites);
  // Started ahead of the first webhook with a low history limit, so the burst spans several runs.
  await h.env.client.workflow.start(importNetworkSitePrefixes, {
    workflowId: realtimeWorkflowId(instanceId, h.config.temporal.taskQueue),
    taskQueue: h.config.temporal.taskQueue,
    args: [{ instanceId, historyLimit: 300 }],
  });

  const ids = dataset.prefixes.all().map((p) => p.id);
  for (let k = 0; k < 10_000; k++) nb.updatePrefix(ids[k % ids.length], { description: `edit ${k}` });
  const started = Date.now();
  const records = await nb.deliver();
  expect(records.filter((r) => !r.ok).map((r) => `${r.status} ${r.error}`)).toEqual([]);
  const status = await h.settle(nb, instanceId, 120_000);
  const elapsedS = (Date.now() - started) / 1000;

  expect(status).toMatchObject({ changesReceived: 10_000, failedBatches: 0, dropped: 0 });
  expect(status!.runs).toBeGreaterThanOrEqual(3);
  const lengths: number[] = [];
  for await (const run of h.env.client.workflow.list({ query: `WorkflowId = '${realtimeWorkflowId(instanceId, h.config.temporal.taskQueue)}'` })) {
    lengths.push((await h.env.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events?.length ?? 0);
  }
  expect(lengths.length).toBe(status!.runs);
  expect(Math.max(...lengths)).toBeLessThan(1_000);
  expect(await h.blocks()).toEqual(expectedBlocks(nb, networkSites));
  // A stalled hand-over between runs (a workflow task timing out) would show up as many seconds here.
  console.log(`10,000 webhooks: ${status!.runs} runs (history ${lengths.join('/')}), ${status!.batches} batches, ${elapsedS.toFixed(1)} s`);
}, 180_000);
