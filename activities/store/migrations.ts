import { Kysely, Migration, MigrationProvider, Migrator } from 'kysely';

export type SqlDialectName = 'sqlite' | 'postgres';

/**
 * Schema migrations, in code so they ship with the package and run the same on SQLite and PostgreSQL.
 * Append new migrations; never edit one that has shipped.
 */
function migrations(dialect: SqlDialectName): Record<string, Migration> {
  return {
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('netbox_instances')
        .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('base_url', 'text', (c) => c.notNull())
        .addColumn('token_encrypted', 'text', (c) => c.notNull())
        .addColumn('prefix_sync_enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('role_filter', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('webhook_secret_encrypted', 'text')
        .addColumn('webhook_state', 'text')
        .addColumn('netbox_version', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('prefix_block_ledger')
        .addColumn('instance_id', 'integer', (c) =>
          c.notNull().references('netbox_instances.id').onDelete('cascade'),
        )
        .addColumn('netbox_prefix_id', 'integer', (c) => c.notNull())
        .addColumn('network_site_id', 'text', (c) => c.notNull())
        .addColumn('network_site_name', 'text', (c) => c.notNull())
        .addColumn('ip_block_id', 'text', (c) => c.notNull())
        .addColumn('cidr', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('netbox_last_updated', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('prefix_block_ledger_pk', ['instance_id', 'netbox_prefix_id'])
        .execute();
      await db.schema
        .createIndex('prefix_block_ledger_site')
        .on('prefix_block_ledger')
        .columns(['instance_id', 'network_site_name'])
        .execute();

      await db.schema
        .createTable('network_sites')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('archived_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('ip_blocks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('network_site_id', 'text', (c) =>
          c.notNull().references('network_sites.id').onDelete('cascade'),
        )
        .addColumn('block', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('integration_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('ip_blocks_site_block', ['network_site_id', 'block'])
        .execute();
    },
  },
  '0002_instance_tracking_id': {
    // The value of the `gaiia_instance_id` custom field on the webhook and event rules this integration makes
    // in NetBox: a random id, so two deployments (or tenants) pointed at one NetBox never claim each other's
    // objects. Filled lazily by InstanceStore.trackingIdFor.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('netbox_instances').addColumn('tracking_id', 'text').execute();
    },
  },
  '0003_deleted_prefixes': {
    // Prefixes the real-time sync saw deleted, so a full sync page read just before the delete cannot bring
    // their blocks back. Kept for a week (Ledger.recordDeletions prunes).
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('deleted_prefixes')
        .addColumn('instance_id', 'integer', (c) => c.notNull().references('netbox_instances.id').onDelete('cascade'))
        .addColumn('netbox_prefix_id', 'integer', (c) => c.notNull())
        .addColumn('deleted_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deleted_prefixes_pk', ['instance_id', 'netbox_prefix_id'])
        .execute();
    },
  },
  '0004_retired_instance_ids': {
    // Ids of removed instances, never given out again: workflow ids, NetBox payload URLs and queued real-time
    // changes are keyed by instance id, so a new instance must not inherit a removed one's (SQLite's integer
    // primary key would reuse the highest id once its row is gone; PostgreSQL's serial never does).
    async up(db: Kysely<any>) {
      await db.schema.createTable('retired_instance_ids').addColumn('id', 'integer', (c) => c.primaryKey()).execute();
    },
  },
  };
}

class InCodeMigrations implements MigrationProvider {
  constructor(private readonly dialect: SqlDialectName) {}
  async getMigrations() {
    return migrations(this.dialect);
  }
}

export async function migrateToLatest(db: Kysely<any>, dialect: SqlDialectName): Promise<void> {
  const migrator = new Migrator({ db, provider: new InCodeMigrations(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const detail = error instanceof Error ? error.message : String(error ?? '');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${detail}`);
  }
}
