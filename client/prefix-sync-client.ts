import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { openConnections, type Connections } from '../activities/connections';
import { InvalidInputError } from '../activities/errors';
import { NetBoxClient, normalizeBaseUrl } from '../activities/netbox/client';
import { loadConfig, type AppConfig } from '../activities/store/config';
import { normalizeRoleFilter, type NetBoxInstance } from '../activities/store/instances';
import type { FullSyncInput, FullSyncReport } from '../workflows/importNetworkSitePrefixesFullSync';

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
}

/**
 * What the settings backend (and the CLI) calls. Instance management talks to the store and checks NetBox
 * directly; syncing runs as Temporal workflows.
 */
export class PrefixSyncClient {
  private temporal?: Promise<Client>;

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

  async close(): Promise<void> {
    if (this.temporal) await (await this.temporal.catch(() => undefined))?.connection.close();
  }

  // NetBox instances

  /** Adds an instance after checking the URL is a NetBox API and the token can read prefixes. */
  async addInstance(input: AddInstanceInput): Promise<InstanceView> {
    const baseUrl = normalizeBaseUrl(input.baseUrl);
    if (!input.token?.trim()) throw new InvalidInputError('an API token is required to add a NetBox instance');
    const existing = await this.connections.instances.list();
    const name = input.name?.trim() || (existing.length === 0 ? 'Default' : '');
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
    const baseUrl = input.baseUrl !== undefined ? normalizeBaseUrl(input.baseUrl) : undefined;
    const token = input.token?.trim() ? input.token.trim() : undefined;
    if (baseUrl !== undefined || token !== undefined) {
      const version = await checkNetBox(baseUrl ?? current.baseUrl, token ?? (await this.connections.instances.tokenFor(current.id)), current.name);
      await this.connections.instances.setNetBoxVersion(current.id, version);
    }
    return view(await this.connections.instances.update(current.id, { name: input.name, baseUrl, token }));
  }

  async listInstances(): Promise<InstanceView[]> {
    return (await this.connections.instances.list()).map(view);
  }

  async getInstance(name: string): Promise<InstanceView> {
    return view(await this.connections.instances.requireByName(name));
  }

  /** Turns prefix sync on or off, optionally setting the role filter (NetBox IPAM role ids; [] = no filter). */
  async setPrefixSync(name: string, enabled: boolean, roleFilter?: number[]): Promise<InstanceView> {
    const instance = await this.connections.instances.requireByName(name);
    return view(await this.connections.instances.setPrefixSync(instance.id, enabled, roleFilter && normalizeRoleFilter(roleFilter)));
  }

  async setRoleFilter(name: string, roleFilter: number[]): Promise<InstanceView> {
    const instance = await this.connections.instances.requireByName(name);
    return view(await this.connections.instances.setPrefixSync(instance.id, instance.prefixSyncEnabled, normalizeRoleFilter(roleFilter)));
  }

  // Full sync

  /** Starts a full sync. The workflow id is the instance's, so starting again while one runs joins that run. */
  async startFullSync(instanceName: string, options: FullSyncOptions = {}): Promise<WorkflowHandle> {
    const instance = await this.connections.instances.requireByName(instanceName);
    const client = await this.temporalClient();
    return client.workflow.start('importNetworkSitePrefixesFullSync', {
      taskQueue: this.config.temporal.taskQueue,
      workflowId: fullSyncWorkflowId(instance.id),
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

export function fullSyncWorkflowId(instanceId: number): string {
  return `netbox-full-sync-${instanceId}`;
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
