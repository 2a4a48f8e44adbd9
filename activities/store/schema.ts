import type { Generated } from 'kysely';

/** Tables of the project's own store. Column names are snake_case, as in the SQL. */
export interface Database {
  netbox_instances: NetBoxInstanceTable;
  prefix_block_ledger: PrefixBlockLedgerTable;
  network_sites: NetworkSiteTable;
  ip_blocks: IpBlockTable;
  deleted_prefixes: DeletedPrefixTable;
  retired_instance_ids: { id: number };
}

/** Prefixes seen deleted by the real-time sync (see Ledger.recordDeletions). */
export interface DeletedPrefixTable {
  instance_id: number;
  netbox_prefix_id: number;
  deleted_at: string;
}

export interface NetBoxInstanceTable {
  id: Generated<number>;
  name: string;
  base_url: string;
  /** AES-256-GCM ciphertext (see secrets.ts); never leaves the activity that uses it. */
  token_encrypted: string;
  prefix_sync_enabled: number;
  /** JSON array of NetBox IPAM role ids; empty array = no filter. */
  role_filter: string;
  webhook_secret_encrypted: string | null;
  /** JSON: ids of the webhook, event rules and custom fields this integration made in that NetBox. */
  webhook_state: string | null;
  netbox_version: string | null;
  /** Random id written into NetBox's `gaiia_instance_id` custom field; set on first webhook registration. */
  tracking_id: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * The ledger of IP Blocks this integration created: the only proof of ownership,
 * since gaiia has no field an integration can set to mark a block as its own.
 */
export interface PrefixBlockLedgerTable {
  instance_id: number;
  netbox_prefix_id: number;
  network_site_id: string;
  network_site_name: string;
  ip_block_id: string;
  cidr: string;
  description: string;
  /** NetBox's `last_updated` of the prefix state this row reflects. */
  netbox_last_updated: string | null;
  updated_at: string;
}

/** Embedded gaiia target: Network Sites. */
export interface NetworkSiteTable {
  id: string;
  name: string;
  archived_at: string | null;
  created_at: string;
}

/** Embedded gaiia target: IP Blocks, unique per site as in gaiia (BLOCK_ALREADY_EXISTS). */
export interface IpBlockTable {
  id: string;
  network_site_id: string;
  block: string;
  description: string;
  integration_id: string | null;
  created_at: string;
  updated_at: string;
}
