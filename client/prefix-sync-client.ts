import crypto from 'node:crypto';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { openConnections, type Connections } from '../activities/connections';
import { InvalidInputError } from '../activities/errors';
import { NetBoxClient, normalizeBaseUrl } from '../activities/netbox/client';
import { loadConfig, type AppConfig } from '../activities/store/config';
import { normalizeRoleFilter, requireToken, validateInstanceName, type NetBoxInstance } from '../activities/store/instances';
import { Ledger } from '../activities/store/ledger';
import type { NetBoxRole } from '../activities/netbox/schemas';
import type { NetBoxConfig, NetBoxHttpRequestInput, NetBoxHttpResponse } from '../activities/settings-backend';
import type { WebhookRegistrationReport } from '../workflows/createNetBoxPrefixUpdateWebhook';
import type { FullSyncInput, FullSyncReport } from '../workflows/importNetworkSitePrefixesFullSync';
import type { WebhookRemovalReport } from '../workflows/removeNetBoxPrefixUpdateWebhook';
import { requireSyncEnabled } from '../activities/settings';
import type { SyncCounts } from '../activities/prefix-sync/counts';
import { realtimeStatusQuery, realtimeWorkflowId, type RealtimeSyncStatus } from '../workflows/importNetworkSitePrefixes';
import { TemporalChangeSignaller } from './receiver';

export type FullSyncOptions = Omit<FullSyncInput, 'instanceName'>;

/** How an instance is shown to callers: never a token or a secret. */
export type InstanceView = Omit<NetBoxInstance, 'hasWebhookSecret'>;

export interface AddInstanceInput {
  /** Unique; defaults to "Default" for the first instance. */
  name?: string;
  baseUrl: string;
  token: string;
}

export interface UpdateInstanceInput {
  name?: string;
  baseUrl?: string;
  /** Blank or missing keeps the current token. */
  token?: string | null;
  /** Accept a new base URL although blocks are tracked (the same NetBox at a new address). */
  force?: boolean;
}

/**
 * What the settings backend (and the CLI) calls. Instance management talks to the store and checks NetBox
 * directly; syncing runs as Temporal workflows.
 */
export class PrefixSyncClient {
  private temporal?: Promise<Client>;
  /** When a worker was last seen polling the task queue (the check is skipped for a while after). */
  private workerSeenAt = 0;

  private constructor(
    readonly config: AppConfig,
    readonly connections: Connections,
    private readonly temporalAddress: string,
  ) {}

  static async open(config: AppConfig = loadConfig(), options: { temporalAddress?: string } = {}): Promise<PrefixSyncClient> {
    const address = options.temporalAddress ?? config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}`;
    return new PrefixSyncClient(config, await openConnections(config), address);
  }

  /** The Temporal client, connected on first use (instance management works without Temporal). */
  temporalClient(): Promise<Client> {
    this.temporal ??= Connection.connect({ address: this.temporalAddress }).then(
      (connection) => new Client({ connection, namespace: this.config.temporal.namespace }),
      (err) => {
        this.temporal = undefined;
        throw new Error(
          `cannot reach Temporal at ${this.temporalAddress}: ${(err as Error).message}; start the stack (npm start) or set TEMPORAL_ADDRESS`,
        );
      },
    );
    return this.temporal;
  }

  /**
   * The Temporal client, after checking that a worker polls the task queue: without one a started workflow
   * waits forever, so the caller would hang instead of hearing what to start. A worker just starting gets a few
   * seconds to show up.
   */
  async workerClient(): Promise<Client> {
    const client = await this.temporalClient();
    if (Date.now() - this.workerSeenAt < WORKER_CHECK_TTL_MS) return client;
    const { namespace, taskQueue } = this.config.temporal;
    const deadline = Date.now() + WORKER_WAIT_MS;
    for (;;) {
      const { pollers } = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue } });
      if (pollers?.length) {
        this.workerSeenAt = Date.now();
        return client;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `no worker is polling task queue '${taskQueue}' (namespace '${namespace}') on Temporal at ${this.temporalAddress}, ` +
            `so nothing would run; start one (npm start runs the whole stack, npm run worker only the worker) with the same ` +
            `TEMPORAL_TASK_QUEUE, then try again`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async close(): Promise<void> {
    if (this.temporal) await (await this.temporal.catch(() => undefined))?.connection.close();
  }

  // NetBox instances

  /** Adds an instance after checking the URL is a NetBox API and the token can read prefixes. */
  async addInstance(input: AddInstanceInput): Promise<InstanceView> {
    const baseUrl = normalizeBaseUrl(input.baseUrl);
    requireToken(input.token);
    const existing = await this.connections.instances.list();
    const name = input.name?.trim() || (existing.length === 0 ? 'Default' : '');
    // Everything that can be refused without NetBox is refused before NetBox is asked.
    if (name) validateInstanceName(name);
    if (name && existing.some((i) => i.name === name)) {
      throw new InvalidInputError(`a NetBox instance named '${name}' already exists; update it instead, or choose another name`);
    }
    const version = await checkNetBox(baseUrl, input.token, name || undefined);
    const created = await this.connections.instances.create({ name: input.name, baseUrl, token: input.token });
    await this.connections.instances.setNetBoxVersion(created.id, version);
    return view(await this.connections.instances.requireById(created.id));
  }

  /** Updates name, URL or token; a blank token keeps the current one. A new URL or token is checked first. */
  async updateInstance(name: string, input: UpdateInstanceInput): Promise<InstanceView> {
    const current = await this.connections.instances.requireByName(name);
    if (input.name !== undefined && input.name.trim() !== current.name) validateInstanceName(input.name.trim());
    const baseUrl = input.baseUrl !== undefined ? normalizeBaseUrl(input.baseUrl) : undefined;
    const token = input.token?.trim() ? input.token.trim() : undefined;
    if (baseUrl !== undefined && baseUrl !== current.baseUrl) await this.checkUrlChange(current, input.force === true);
    if (baseUrl !== undefined || token !== undefined) {
      const version = await checkNetBox(baseUrl ?? current.baseUrl, token ?? (await this.connections.instances.tokenFor(current.id)), current.name);
      await this.connections.instances.setNetBoxVersion(current.id, version);
    }
    return view(await this.connections.instances.update(current.id, { name: input.name, baseUrl, token }));
  }

  /**
   * The ledger knows blocks by NetBox prefix id, and our webhook lives in the old NetBox: a new URL is safe
   * only for the same NetBox under a new address, with sync off while it changes.
   */
  private async checkUrlChange(current: NetBoxInstance, force: boolean): Promise<void> {
    if (current.prefixSyncEnabled) {
      throw new InvalidInputError(
        `instance '${current.name}' has prefix sync enabled, and its webhook lives in the NetBox at ${current.baseUrl}; ` +
          `disable sync first (sync disable --instance '${current.name}'), change the URL, then enable it again`,
      );
    }
    const tracked = (await new Ledger(this.connections.db).forInstance(current.id)).length;
    if (tracked > 0 && !force) {
      throw new InvalidInputError(
        `instance '${current.name}' tracks ${tracked} IP Blocks by the prefix ids of the NetBox at ${current.baseUrl}; ` +
          `if the new URL is the same NetBox at a new address, repeat with --force; if it is another NetBox, add it as a new instance instead`,
      );
    }
  }

  async listInstances(): Promise<InstanceView[]> {
    return (await this.connections.instances.list()).map(view);
  }

  async getInstance(name: string): Promise<InstanceView> {
    return view(await this.connections.instances.requireByName(name));
  }

  /**
   * Turns prefix sync on or off, optionally setting the role filter (NetBox IPAM role ids; [] = no filter).
   * Saves first, then registers the NetBox webhook (enable) or removes it (disable) through Temporal, so the
   * receiver's accept/reject already follows the setting while NetBox is being changed. `manageWebhook: false`
   * only saves.
   */
  async setPrefixSync(
    name: string,
    enabled: boolean,
    roleFilter?: number[],
    options: { manageWebhook?: boolean } = {},
  ): Promise<InstanceView> {
    const instance = await this.connections.instances.requireByName(name);
    if (roleFilter) await this.checkRoleFilter(instance, roleFilter);
    // Temporal and a worker are needed for the webhook step: find out before saving, so a refusal changes nothing.
    if (options.manageWebhook !== false) await this.workerClient();
    const saved = await this.connections.instances.setPrefixSync(instance.id, enabled, roleFilter && normalizeRoleFilter(roleFilter));
    if (options.manageWebhook === false) return view(saved);
    try {
      if (enabled) await this.registerWebhook(saved.name);
      else await this.removeWebhook(saved.name);
    } catch (err) {
      throw new Error(
        enabled
          ? `prefix sync of '${saved.name}' is enabled, but registering its NetBox webhook failed: ${failureMessage(err)}; ` +
              `fix that, then run: webhook register --instance '${saved.name}'`
          : `prefix sync of '${saved.name}' is disabled (the receiver rejects its events), but removing its NetBox webhook failed: ` +
              `${failureMessage(err)}; fix that, then run: webhook remove --instance '${saved.name}'`,
      );
    }
    return view(await this.connections.instances.requireById(saved.id));
  }

  /**
   * Removes an instance: disables prefix sync and removes its NetBox webhook first. If NetBox cannot be
   * reached the instance is kept (so nothing is left behind in NetBox) unless `force` is given.
   */
  async removeInstance(name: string, options: { force?: boolean } = {}): Promise<{ removed: string; webhook: WebhookRemovalReport | null; warning?: string }> {
    let instance = await this.connections.instances.requireByName(name);
    // Without Temporal and a worker the webhook cannot be removed: say so before disabling anything.
    if ((instance.webhook || instance.hasWebhookSecret) && !options.force) await this.workerClient();
    if (instance.prefixSyncEnabled) instance = await this.connections.instances.setPrefixSync(instance.id, false);
    let webhook: WebhookRemovalReport | null = null;
    let warning: string | undefined;
    if (instance.webhook || instance.hasWebhookSecret) {
      try {
        webhook = await this.removeWebhook(instance.name);
      } catch (err) {
        if (!options.force) {
          throw new Error(
            `instance '${instance.name}' was not removed (its prefix sync is now disabled): removing its NetBox webhook failed: ` +
              `${failureMessage(err)}; fix that and try again, or remove with --force and delete the webhook and event rules ` +
              `named 'gaiia prefix sync ${await this.connections.instances.trackingIdFor(instance.id)}…' in NetBox by hand`,
          );
        }
        warning = `the NetBox webhook could not be removed (${failureMessage(err)}); delete it in NetBox by hand`;
      }
    }
    await this.connections.instances.remove(instance.id);
    return { removed: instance.name, webhook, ...(warning ? { warning } : {}) };
  }

  async setRoleFilter(name: string, roleFilter: number[]): Promise<InstanceView> {
    const instance = await this.connections.instances.requireByName(name);
    await this.checkRoleFilter(instance, roleFilter);
    return view(await this.connections.instances.setPrefixSync(instance.id, instance.prefixSyncEnabled, normalizeRoleFilter(roleFilter)));
  }

  /**
   * A role filter may name only roles the instance's NetBox has: NetBox answers 400 to a `role_id` it does not
   * know, so a typo would fail every full sync later instead of being refused now.
   */
  private async checkRoleFilter(instance: NetBoxInstance, roleFilter: number[]): Promise<void> {
    const ids = normalizeRoleFilter(roleFilter);
    if (ids.length === 0) return;
    const netbox = await this.connections.netboxFor(instance, { maxAttempts: 2, timeoutMs: 15_000 });
    const roles = await netbox.roles();
    const known = new Set(roles.map((r) => r.id));
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length) {
      const list = roles.length ? roles.map((r) => `${r.id} (${r.name})`).join(', ') : 'none';
      throw new InvalidInputError(
        `NetBox instance '${instance.name}' has no IPAM role with id ${unknown.join(', ')}; its roles are: ${list} ` +
          `(cli: roles --instance '${instance.name}'); nothing was changed`,
      );
    }
  }

  // Full sync

  /** Starts a full sync. The workflow id is the instance's, so starting again while one runs joins that run. */
  async startFullSync(instanceName: string, options: FullSyncOptions = {}): Promise<WorkflowHandle> {
    const instance = await this.connections.instances.requireByName(instanceName);
    const client = await this.workerClient();
    return client.workflow.start('importNetworkSitePrefixesFullSync', {
      taskQueue: this.config.temporal.taskQueue,
      workflowId: fullSyncWorkflowId(instance.id, this.config.temporal.taskQueue),
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ instanceName: instance.name, ...options }],
    });
  }

  /** Runs a full sync and waits for its report; a refused or failed sync throws with the workflow's own message. */
  async runFullSync(instanceName: string, options: FullSyncOptions = {}): Promise<FullSyncReport> {
    const handle = await this.startFullSync(instanceName, options);
    try {
      return (await handle.result()) as FullSyncReport;
    } catch (err) {
      throw new Error(`full sync of '${instanceName}' failed: ${failureMessage(err)}`);
    }
  }

  /**
   * The counterpart of the additive full sync, for after webhooks were lost (the receiver was down, NetBox's
   * delivery failed and NetBox does not retry): every prefix this instance has an IP Block for is re-read from
   * NetBox through the instance's real-time workflow, which removes the blocks of prefixes gone from NetBox, moves
   * those on another site now and updates the rest, exactly as their webhooks would have. Waits until the
   * workflow has applied them. Refused while the instance's prefix sync is disabled.
   */
  async reconcile(instanceName: string, options: { timeoutMs?: number } = {}): Promise<ReconcileReport> {
    const instance = await this.connections.instances.requireByName(instanceName);
    requireSyncEnabled(instance, 'reconciling its IP Blocks');
    const client = await this.workerClient();
    const prefixIds = (await new Ledger(this.connections.db).forInstance(instance.id)).map((e) => e.netboxPrefixId);
    const workflowId = realtimeWorkflowId(instance.id, this.config.temporal.taskQueue);
    const handle = client.workflow.getHandle(workflowId);
    const status = () => handle.query(realtimeStatusQuery).catch(() => null);
    const before = prefixIds.length ? await status() : null;
    // The receiver's signaller: grouped into signals of bounded size, retried through a continue-as-new's
    // closing window and brief outages, exactly as webhooks are.
    const signaller = new TemporalChangeSignaller({
      address: this.temporalAddress,
      namespace: this.config.temporal.namespace,
      taskQueue: this.config.temporal.taskQueue,
      timeoutMs: 60_000,
    });
    const timestamp = new Date().toISOString();
    try {
      await Promise.all(prefixIds.map((objectId) => signaller.signal(instance.id, { objectType: 'prefix', objectId, event: 'updated', timestamp })));
    } finally {
      await signaller.close();
    }
    const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
    for (let after = prefixIds.length ? await status() : before; ; after = await status()) {
      const received = (after?.changesReceived ?? 0) - (before?.changesReceived ?? 0);
      if (!prefixIds.length || (after && received >= prefixIds.length && after.pendingPrefixes + after.pendingSites + after.applying === 0)) {
        return { instanceName: instance.name, prefixesReread: prefixIds.length, ...countsSince(before, after), parked: after?.parked ?? 0 };
      }
      if (Date.now() > deadline) {
        throw new Error(
          `reconcile of '${instance.name}' is still running after ${Math.round((options.timeoutMs ?? 600_000) / 1000)} s ` +
            `(${after?.pendingPrefixes ?? '?'} prefixes queued); it goes on in workflow ${workflowId}, whose status query shows its progress`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  // The settings backend's workflows

  /** Runs createNetBoxPrefixUpdateWebhook: registers or repairs the instance's webhook in NetBox. */
  async registerWebhook(instanceName: string, options: { rotateSecret?: boolean } = {}): Promise<WebhookRegistrationReport> {
    const instance = await this.connections.instances.requireByName(instanceName);
    return this.runWebhookWorkflow<WebhookRegistrationReport>('createNetBoxPrefixUpdateWebhook', instance, {
      instanceName: instance.name,
      ...(options.rotateSecret ? { rotateSecret: true } : {}),
    });
  }

  /** Runs removeNetBoxPrefixUpdateWebhook (refused while prefix sync is enabled: disable instead). */
  async removeWebhook(instanceName: string): Promise<WebhookRemovalReport> {
    const instance = await this.connections.instances.requireByName(instanceName);
    return this.runWebhookWorkflow<WebhookRemovalReport>('removeNetBoxPrefixUpdateWebhook', instance, { instanceName: instance.name });
  }

  /** The IPAM roles of the instance's NetBox (getIpamRolesFromNetBox), to pick a role filter from. */
  async listRoles(instanceName: string): Promise<NetBoxRole[]> {
    const instance = await this.connections.instances.requireByName(instanceName);
    return this.runWorkflow<NetBoxRole[]>('getIpamRolesFromNetBox', `netbox-roles-${instance.id}-${crypto.randomUUID()}`, {
      instanceName: instance.name,
    });
  }

  /** Every instance's settings and webhook state, tokens and secrets hidden (getConfigForNetBox). */
  async getConfig(): Promise<NetBoxConfig> {
    return this.runWorkflow<NetBoxConfig>('getConfigForNetBox', `netbox-config-${crypto.randomUUID()}`, {});
  }

  /** One request to an instance's NetBox API through Temporal (netBoxHttpRequest); credentials in the answer are hidden. */
  async netboxRequest(input: NetBoxHttpRequestInput): Promise<NetBoxHttpResponse> {
    const instance = await this.connections.instances.requireByName(input.instanceName);
    return this.runWorkflow<NetBoxHttpResponse>('netBoxHttpRequest', `netbox-request-${instance.id}-${crypto.randomUUID()}`, input);
  }

  /**
   * Registration and removal share one workflow id per instance, so they never run at the same time: if one
   * is running, wait for it to finish, then start ours.
   */
  private async runWebhookWorkflow<T>(type: string, instance: NetBoxInstance, arg: object): Promise<T> {
    const client = await this.workerClient();
    const workflowId = webhookWorkflowId(instance.id, this.config.temporal.taskQueue);
    for (let attempt = 1; ; attempt++) {
      let handle: WorkflowHandle;
      try {
        handle = await client.workflow.start(type, {
          taskQueue: this.config.temporal.taskQueue,
          workflowId,
          workflowIdConflictPolicy: 'FAIL',
          args: [arg],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError) || attempt >= 10) throw err;
        await client.workflow.getHandle(workflowId).result().catch(() => undefined);
        continue;
      }
      try {
        return (await handle.result()) as T;
      } catch (err) {
        throw new Error(failureMessage(err));
      }
    }
  }

  private async runWorkflow<T>(type: string, workflowId: string, arg: object): Promise<T> {
    const client = await this.workerClient();
    try {
      return (await client.workflow.execute(type, { taskQueue: this.config.temporal.taskQueue, workflowId, args: [arg] })) as T;
    } catch (err) {
      throw new Error(`${type} failed: ${failureMessage(err)}`);
    }
  }

  // The embedded gaiia target's Network Sites and IP Blocks

  addNetworkSite(name: string) {
    return this.connections.gaiia.createNetworkSite(name);
  }

  listNetworkSites() {
    return this.connections.gaiia.listNetworkSites();
  }

  listIpBlocks() {
    return this.connections.gaiia.listAllIpBlocks();
  }

  addManualIpBlock(networkSiteName: string, block: string, description = '') {
    return this.connections.gaiia.addManualIpBlock(networkSiteName, { block, description });
  }
}

/** A worker seen polling is trusted for this long before the next check. */
const WORKER_CHECK_TTL_MS = 30_000;
/** How long a missing worker is waited for (one that is starting registers its poll within a second or two). */
const WORKER_WAIT_MS = 5_000;

/**
 * One id for both webhook workflows of an instance: registering and removing never overlap. Workflow ids
 * are scoped by task queue, since instance ids are per store (see realtimeWorkflowId).
 */
export interface ReconcileReport {
  instanceName: string;
  /** Prefixes with an IP Block of this instance, each re-read from NetBox. */
  prefixesReread: number;
  created: number;
  updated: number;
  removed: number;
  /** Changes the workflow parked after NetBox refused them (see its status query). */
  parked: number;
}

/** What the real-time workflow did between two status reads (both cumulative over its runs). */
function countsSince(before: RealtimeSyncStatus | null, after: RealtimeSyncStatus | null): Pick<SyncCounts, 'created' | 'updated' | 'removed'> {
  const delta = (k: 'created' | 'updated' | 'removed') => (after?.counts[k] ?? 0) - (before?.counts[k] ?? 0);
  return { created: delta('created'), updated: delta('updated'), removed: delta('removed') };
}

export function webhookWorkflowId(instanceId: number, taskQueue: string): string {
  return `netbox-webhook-${instanceId}@${taskQueue}`;
}

export function fullSyncWorkflowId(instanceId: number, taskQueue: string): string {
  return `netbox-full-sync-${instanceId}@${taskQueue}`;
}

/** Checks a URL is a NetBox API and the token may read prefixes; returns NetBox's version. */
async function checkNetBox(baseUrl: string, token: string, instanceName?: string): Promise<string> {
  const netbox = new NetBoxClient({ baseUrl, token, instanceName, maxAttempts: 2, timeoutMs: 15_000 });
  const status = await netbox.status();
  await netbox.checkToken();
  return status.version;
}

function view(instance: NetBoxInstance): InstanceView {
  const { hasWebhookSecret: _, ...rest } = instance;
  return rest;
}

/** The innermost message of a workflow failure: the one that names the fix. */
export function failureMessage(err: unknown): string {
  let e: unknown = err instanceof WorkflowFailedError ? err.cause ?? err : err;
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause) e = (e as { cause: unknown }).cause;
  return (e as Error)?.message ?? String(err);
}
