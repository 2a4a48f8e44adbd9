import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import crypto from 'node:crypto';
import { openConnections, type Connections } from '../../activities/connections';
import { closeDatabase } from '../../activities/store/db';
import type { AppConfig } from '../../activities/store/config';
import { receiverLogger, startReceiver, TemporalChangeSignaller, type RunningReceiver } from '../../client/receiver';
import { createWorker } from '../../worker';
import { realtimeStatusQuery, realtimeWorkflowId, type RealtimeSyncStatus } from '../../workflows/importNetworkSitePrefixes';
import { NetBoxDataset, startNetBoxStandIn, type NetBoxStandIn, type StandInOptions } from '../netbox-standin';
import { testConfig } from './config';
import { startTemporal, workflowBundle } from './temporal';

/**
 * Everything the real-time path needs, on one machine: a Temporal dev server, a worker, the receiver, and the
 * NetBox stand-in with a webhook pointing at the receiver. One per test file (the dev server is the slow part);
 * each test adds its own NetBox instance (`addInstance`) on its own stand-in, so tests never share state.
 */
export class RealtimeHarness {
  readonly standIns: NetBoxStandIn[] = [];
  private running?: Promise<void>;

  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly config: AppConfig,
    readonly connections: Connections,
    readonly worker: Worker,
    readonly receiver: RunningReceiver,
  ) {}

  /** `signalTimeoutMs`: the receiver's budget per webhook before it answers 503 (default 8 s). */
  static async start(options: { signalTimeoutMs?: number } = {}): Promise<RealtimeHarness> {
    const env = await startTemporal();
    const config = testConfig();
    const connections = await openConnections(config);
    const worker = await createWorker({
      connection: env.nativeConnection,
      connections,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: await workflowBundle(),
    });
    const receiver = await startReceiver({
      host: '127.0.0.1',
      port: 0,
      instances: connections.instances,
      signaller: new TemporalChangeSignaller({
        address: env.address,
        namespace: 'default',
        taskQueue: config.temporal.taskQueue,
        ...(options.signalTimeoutMs ? { timeoutMs: options.signalTimeoutMs } : {}),
      }),
      logger: receiverLogger(process.env.LOG_LEVEL ?? 'warn'),
    });
    const harness = new RealtimeHarness(env, config, connections, worker, receiver);
    harness.running = worker.run();
    return harness;
  }

  async close(): Promise<void> {
    for (const nb of this.standIns) await nb.close();
    await this.receiver.close();
    if (this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running?.catch(() => undefined);
    await closeDatabase(this.config.databaseUrl);
    await this.env.teardown();
  }

  /**
   * A stand-in NetBox plus an enabled instance for it, with NetBox's webhook and event rules pointing at the
   * receiver exactly as the lifecycle workflow registers them (prefix created/updated/deleted; site deleted).
   */
  async addInstance(
    options: Partial<StandInOptions> & { version: string; roleFilter?: number[] },
  ): Promise<{ nb: NetBoxStandIn; instanceId: number; secret: string }> {
    const nb = await startNetBoxStandIn({ dataset: new NetBoxDataset({ source: 'empty' }), ...options });
    this.standIns.push(nb);
    const instance = await this.connections.instances.create({
      name: `nb-${this.standIns.length}-${options.version}`,
      baseUrl: nb.url,
      token: nb.token,
    });
    await this.connections.instances.setPrefixSync(instance.id, true, options.roleFilter ?? []);
    const secret = crypto.randomBytes(24).toString('hex');
    await this.connections.instances.setWebhookSecret(instance.id, secret);
    await registerWebhook(nb, `${this.receiver.url}/webhooks/netbox?instanceId=${instance.id}`, secret);
    return { nb, instanceId: instance.id, secret };
  }

  /** Network Sites in the embedded gaiia target. */
  async addNetworkSites(...names: string[]): Promise<void> {
    for (const name of names) await this.connections.gaiia.createNetworkSite(name);
  }

  /** IP Blocks as "site cidr description", sorted (manual and other instances' included), on sites named `<tag>…`. */
  async blocks(tag = ''): Promise<string[]> {
    return (await this.connections.gaiia.listAllIpBlocks())
      .filter((b) => b.networkSiteName.startsWith(tag))
      .map((b) => `${b.networkSiteName} ${b.block} ${b.description}`.trim())
      .sort();
  }

  async status(instanceId: number): Promise<RealtimeSyncStatus | null> {
    try {
      return await this.env.client.workflow.getHandle(realtimeWorkflowId(instanceId, this.config.temporal.taskQueue)).query(realtimeStatusQuery);
    } catch {
      return null;
    }
  }

  /** Waits until the instance's workflow status satisfies `ok`. */
  async waitForStatus(instanceId: number, ok: (s: RealtimeSyncStatus) => boolean, timeoutMs = 20_000): Promise<RealtimeSyncStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status(instanceId);
      if (s && ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`instance ${instanceId}: status not reached in ${timeoutMs} ms; last ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Waits until NetBox has sent everything queued and the instance's workflow has applied every change it
   * accepted: the point where the IP Blocks must equal what NetBox says.
   */
  async settle(nb: NetBoxStandIn, instanceId: number, timeoutMs = 30_000): Promise<RealtimeSyncStatus | null> {
    await nb.flushDeliveries();
    const accepted = nb.deliveryLog.filter((r) => r.ok).length;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status(instanceId);
      if (accepted === 0 && !s) return null;
      if (s && s.changesReceived >= accepted && s.pendingPrefixes + s.pendingSites + s.applying === 0) return s;
      if (Date.now() > deadline) {
        throw new Error(`instance ${instanceId} did not settle in ${timeoutMs} ms: ${accepted} deliveries accepted, status ${JSON.stringify(s)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Creates the webhook and the two event rules through the stand-in's REST API, as NetBox's own UI/API would. */
export async function registerWebhook(nb: NetBoxStandIn, payloadUrl: string, secret: string): Promise<void> {
  const post = async (path: string, body: object) => {
    const res = await fetch(`${nb.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Token ${nb.token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { id: number };
    if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  const webhook = await post('/api/extras/webhooks/', { name: `gaiia prefix sync ${crypto.randomUUID()}`, payload_url: payloadUrl, secret });
  const rule = { action_type: 'webhook', action_object_type: 'extras.webhook', action_object_id: webhook.id, enabled: true };
  await post('/api/extras/event-rules/', {
    ...rule,
    name: `gaiia prefixes ${webhook.id}`,
    object_types: ['ipam.prefix'],
    event_types: ['object_created', 'object_updated', 'object_deleted'],
  });
  await post('/api/extras/event-rules/', { ...rule, name: `gaiia sites ${webhook.id}`, object_types: ['dcim.site'], event_types: ['object_deleted'] });
}

/**
 * What the IP Blocks should be, computed from the stand-in's own records (not through the sync's code): a block
 * on the Network Site named like the prefix's site, for site-scoped prefixes passing the role filter.
 */
export function expectedBlocks(nb: NetBoxStandIn, networkSites: string[], roleFilter: number[] = []): string[] {
  const sites = new Set(networkSites);
  const out: string[] = [];
  for (const p of nb.dataset.prefixes.all()) {
    if (p.scopeType !== 'dcim.site' || p.scopeId === null) continue;
    if (roleFilter.length && (p.roleId === null || !roleFilter.includes(p.roleId))) continue;
    const site = nb.dataset.sites.get(p.scopeId);
    if (!site || !sites.has(site.name)) continue;
    out.push(`${site.name} ${p.prefix} ${p.description}`.trim());
  }
  return out.sort();
}
