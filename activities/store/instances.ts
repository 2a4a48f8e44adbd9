import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import { DuplicateInstanceError, InvalidInputError, UnknownInstanceError } from '../errors';
import type { StoreDb } from './db';
import type { NetBoxInstanceTable } from './schema';
import type { SecretBox } from './secrets';

/** What NetBox holds on behalf of one instance: found again by these ids and by the tracking custom fields. */
export interface WebhookRegistration {
  webhookId: number | null;
  eventRuleIds: number[];
  customFieldIds: number[];
  payloadUrl: string | null;
  registeredAt: string | null;
}

/** A NetBox instance as the rest of the code sees it: no token, no secret. */
export interface NetBoxInstance {
  id: number;
  name: string;
  baseUrl: string;
  prefixSyncEnabled: boolean;
  /** NetBox IPAM role ids; empty = no filter (prefixes with any role or none sync). */
  roleFilter: number[];
  webhook: WebhookRegistration | null;
  hasWebhookSecret: boolean;
  netboxVersion: string | null;
  createdAt: string;
  updatedAt: string;
}

export const DEFAULT_INSTANCE_NAME = 'Default';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;

/** The NetBox instances this integration knows, with their credentials encrypted at rest. */
/** A new instance needs a token; the CLI takes it from NETBOX_TOKEN (kept out of the process list) or --token. */
export function requireToken(token: string | null | undefined): void {
  if (!token?.trim()) throw new InvalidInputError('an API token is required to add a NetBox instance (cli: set NETBOX_TOKEN, or pass --token)');
}

export class InstanceStore {
  constructor(
    private readonly db: StoreDb,
    private readonly secrets: SecretBox,
  ) {}

  async list(): Promise<NetBoxInstance[]> {
    const rows = await this.db.selectFrom('netbox_instances').selectAll().orderBy('id').execute();
    return rows.map(toInstance);
  }

  async findByName(name: string): Promise<NetBoxInstance | undefined> {
    const row = await this.db.selectFrom('netbox_instances').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toInstance(row);
  }

  async findById(id: number): Promise<NetBoxInstance | undefined> {
    // Ids come from URLs too: anything that is not a row id (PostgreSQL's integer) is simply not found.
    if (!Number.isSafeInteger(id) || id < 1 || id > 2_147_483_647) return undefined;
    const row = await this.db.selectFrom('netbox_instances').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toInstance(row);
  }

  async requireByName(name: string): Promise<NetBoxInstance> {
    const found = await this.findByName(name);
    if (found) return found;
    throw new UnknownInstanceError(await this.unknownMessage(`named '${name}'`));
  }

  async requireById(id: number): Promise<NetBoxInstance> {
    const found = await this.findById(id);
    if (found) return found;
    throw new UnknownInstanceError(await this.unknownMessage(`with id ${id}`));
  }

  private async unknownMessage(what: string): Promise<string> {
    const names = (await this.list()).map((i) => `'${i.name}'`);
    return names.length === 0
      ? `no NetBox instance ${what}: none is configured yet; add one first (cli: NETBOX_TOKEN=<API token> instance add --url <NetBox URL>)`
      : `no NetBox instance ${what}; known instances: ${names.join(', ')} (names are case-sensitive)`;
  }

  /** Adds an instance; the first one is called "Default" unless a name is given. */
  async create(input: { name?: string; baseUrl: string; token: string }): Promise<NetBoxInstance> {
    const existing = await this.list();
    const name = input.name?.trim() || (existing.length === 0 ? DEFAULT_INSTANCE_NAME : undefined);
    if (!name) {
      throw new InvalidInputError(
        `a name is required: instance '${DEFAULT_INSTANCE_NAME}' already exists, so give this one its own name`,
      );
    }
    validateInstanceName(name);
    requireToken(input.token);
    if (existing.some((i) => i.name === name)) {
      throw new DuplicateInstanceError(
        `a NetBox instance named '${name}' already exists; update it instead, or choose another name`,
      );
    }
    const now = new Date().toISOString();
    const id = await this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('netbox_instances')
        .values({
          name,
          base_url: input.baseUrl,
          token_encrypted: this.secrets.encrypt(input.token.trim()),
          prefix_sync_enabled: 0,
          role_filter: '[]',
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      // SQLite hands out a removed instance's id again when it was the highest: move past every retired id.
      const retired = await trx.selectFrom('retired_instance_ids').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
      const highestRetired = retired?.max === null || retired?.max === undefined ? 0 : Number(retired.max);
      if (Number(inserted.id) > highestRetired) return Number(inserted.id);
      await trx.updateTable('netbox_instances').set({ id: highestRetired + 1 }).where('id', '=', Number(inserted.id)).execute();
      return highestRetired + 1;
    });
    return this.requireById(id);
  }

  /** Changes name, base URL or token; a blank or missing token keeps the current one. */
  async update(id: number, input: { name?: string; baseUrl?: string; token?: string | null }): Promise<NetBoxInstance> {
    const current = await this.requireById(id);
    const values: Partial<Selectable<NetBoxInstanceTable>> = { updated_at: new Date().toISOString() };
    if (input.name !== undefined && input.name.trim() !== current.name) {
      const name = input.name.trim();
      validateInstanceName(name);
      if (await this.findByName(name)) {
        throw new DuplicateInstanceError(`a NetBox instance named '${name}' already exists; choose another name`);
      }
      values.name = name;
    }
    if (input.baseUrl !== undefined) values.base_url = input.baseUrl;
    if (input.token && input.token.trim()) values.token_encrypted = this.secrets.encrypt(input.token.trim());
    await this.db.updateTable('netbox_instances').set(values).where('id', '=', id).execute();
    return this.requireById(id);
  }

  async setPrefixSync(id: number, enabled: boolean, roleFilter?: number[]): Promise<NetBoxInstance> {
    const values: Partial<Selectable<NetBoxInstanceTable>> = {
      prefix_sync_enabled: enabled ? 1 : 0,
      updated_at: new Date().toISOString(),
    };
    if (roleFilter !== undefined) values.role_filter = JSON.stringify(normalizeRoleFilter(roleFilter));
    await this.db.updateTable('netbox_instances').set(values).where('id', '=', id).execute();
    return this.requireById(id);
  }

  async remove(id: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('netbox_instances').where('id', '=', id).execute();
      await trx.insertInto('retired_instance_ids').values({ id }).onConflict((oc) => oc.doNothing()).execute();
    });
  }

  /** The decrypted API token: call only inside the activity that sends it to NetBox. */
  async tokenFor(id: number): Promise<string> {
    const row = await this.db
      .selectFrom('netbox_instances')
      .select('token_encrypted')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new UnknownInstanceError(await this.unknownMessage(`with id ${id}`));
    return this.secrets.decrypt(row.token_encrypted);
  }

  async webhookSecretFor(id: number): Promise<string | null> {
    const row = await this.db
      .selectFrom('netbox_instances')
      .select('webhook_secret_encrypted')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.webhook_secret_encrypted ? this.secrets.decrypt(row.webhook_secret_encrypted) : null;
  }

  async setWebhookSecret(id: number, secret: string | null): Promise<void> {
    await this.db
      .updateTable('netbox_instances')
      .set({ webhook_secret_encrypted: secret === null ? null : this.secrets.encrypt(secret) })
      .where('id', '=', id)
      .execute();
  }

  async setWebhookRegistration(id: number, registration: WebhookRegistration | null): Promise<void> {
    await this.db
      .updateTable('netbox_instances')
      .set({ webhook_state: registration === null ? null : JSON.stringify(registration) })
      .where('id', '=', id)
      .execute();
  }

  /**
   * The instance's tracking id (the `gaiia_instance_id` value on its NetBox objects), created on first use.
   * The conditional update makes two concurrent first calls agree on one id.
   */
  async trackingIdFor(id: number): Promise<string> {
    await this.db
      .updateTable('netbox_instances')
      .set({ tracking_id: crypto.randomUUID() })
      .where('id', '=', id)
      .where('tracking_id', 'is', null)
      .execute();
    const row = await this.db.selectFrom('netbox_instances').select('tracking_id').where('id', '=', id).executeTakeFirst();
    if (!row?.tracking_id) throw new UnknownInstanceError(await this.unknownMessage(`with id ${id}`));
    return row.tracking_id;
  }

  async setNetBoxVersion(id: number, version: string): Promise<void> {
    await this.db.updateTable('netbox_instances').set({ netbox_version: version }).where('id', '=', id).execute();
  }
}

/** Refuses a name the store would refuse (the client checks it before contacting NetBox). */
export function validateInstanceName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidInputError(
      `instance name '${name}' is not allowed: use 1-100 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit`,
    );
  }
}

export function normalizeRoleFilter(roleIds: number[]): number[] {
  for (const id of roleIds) {
    if (!Number.isInteger(id) || id <= 0) {
      throw new InvalidInputError(`role filter must list NetBox IPAM role ids (positive integers); got '${id}'`);
    }
  }
  return [...new Set(roleIds)].sort((a, b) => a - b);
}

function toInstance(row: Selectable<NetBoxInstanceTable>): NetBoxInstance {
  return {
    id: Number(row.id),
    name: row.name,
    baseUrl: row.base_url,
    prefixSyncEnabled: Boolean(row.prefix_sync_enabled),
    roleFilter: JSON.parse(row.role_filter) as number[],
    webhook: row.webhook_state ? (JSON.parse(row.webhook_state) as WebhookRegistration) : null,
    hasWebhookSecret: row.webhook_secret_encrypted !== null,
    netboxVersion: row.netbox_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
