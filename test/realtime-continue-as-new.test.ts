/**
 * Webhooks racing continue-as-new. At tens of webhooks per second a signal nearly always arrives while the workflow
 * task that continues as new is in flight: the server fails that task (UnhandledCommand) and, until the retried
 * task (a full replay) completes, refuses every signal with RESOURCE_EXHAUSTED "workflow is closing". The receiver
 * must wait that out within its budget, not answer 503 (NetBox would not retry: the change would be lost until a
 * full sync), and the workflow must carry every accepted change into the next run.
 *
 * The budget here is 1.2 s: the SDK's default gRPC retry would first retry a refused signal 1.4–2 s later, so any
 * refusal would turn into a 503; the receiver's own retries answer within a few hundred milliseconds.
 */
import { generateDataset } from './netbox-standin';
import { importNetworkSitePrefixes, realtimeWorkflowId } from '../workflows/importNetworkSitePrefixes';
import { RealtimeHarness, expectedBlocks } from './support/realtime';

let h: RealtimeHarness;

beforeAll(async () => {
  h = await RealtimeHarness.start({ signalTimeoutMs: 1_200 });
}, 120_000);

afterAll(async () => {
  await h?.close();
});

test('a steady stream of webhooks across many forced continue-as-new: no 5xx, every change applied', async () => {
  const dataset = generateDataset({ prefixes: 160, sites: 4, seed: 11 });
  const { nb, instanceId } = await h.addInstance({ version: '4.2', dataset, deliveries: 'manual', deliveryConcurrency: 16 });
  const networkSites = [...new Set(dataset.sites.all().map((s) => s.name))];
  await h.addNetworkSites(...networkSites);
  const workflowId = realtimeWorkflowId(instanceId, h.config.temporal.taskQueue);
  // A tiny history limit: the workflow continues as new every few batches while webhooks keep coming.
  await h.env.client.workflow.start(importNetworkSitePrefixes, {
    workflowId,
    taskQueue: h.config.temporal.taskQueue,
    args: [{ instanceId, historyLimit: 40 }],
  });

  // 80 edits per second for 4 s (every prefix twice), each delivered at once, as NetBox's workers would.
  const ids = dataset.prefixes.all().map((p) => p.id);
  const sends: Array<Promise<unknown>> = [];
  const start = Date.now();
  for (let k = 0; k < 320; k++) {
    const due = start + (k * 1000) / 80;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    nb.updatePrefix(ids[k % ids.length], { description: `edit ${k}` });
    sends.push(nb.deliver(nb.pendingDeliveries().map((d) => d.id)));
  }
  await Promise.all(sends);
  expect(nb.deliveryLog.filter((r) => !r.ok).map((r) => `${r.objectId}: ${r.status ?? ''} ${r.error ?? ''}`)).toEqual([]);
  const status = await h.settle(nb, instanceId, 60_000);

  // The race really happened: some continue-as-new was bounced by a signal (else this test proves nothing).
  let bounced = 0;
  let runs = 0;
  for await (const run of h.env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs++;
    const events = (await h.env.client.workflow.getHandle(workflowId, run.runId).fetchHistory()).events ?? [];
    bounced += events.filter((e) => e.workflowTaskFailedEventAttributes?.cause === 1 /* UNHANDLED_COMMAND */).length;
  }
  expect(bounced).toBeGreaterThan(0);
  expect(runs).toBeGreaterThanOrEqual(5);

  expect(status).toMatchObject({ changesReceived: 320, failedBatches: 0, dropped: 0 });
  expect(await h.blocks()).toEqual(expectedBlocks(nb, networkSites));
}, 120_000);
