import { EmbeddedGaiia } from './gaiia/embedded';
import { NetBoxClient, type NetBoxConnection } from './netbox/client';
import type { SyncUnit } from './prefix-sync/reconcile';
import type { AppConfig } from './store/config';
import { openDatabase, type StoreDb } from './store/db';
import { InstanceStore, type NetBoxInstance } from './store/instances';
import { Ledger } from './store/ledger';
import { SecretBox } from './store/secrets';

/**
 * The long-lived handles activities and the client module share: the store, the gaiia target and a way
 * to reach each NetBox. Opened once per process.
 */
export interface Connections {
  config: AppConfig;
  db: StoreDb;
  instances: InstanceStore;
  /** The embedded gaiia target (Network Sites and IP Blocks in the project's database). */
  gaiia: EmbeddedGaiia;
  /** Runs `work` with the ledger and the gaiia target in one transaction: a batch applies whole or not at all. */
  inSyncUnit<T>(work: (unit: SyncUnit) => Promise<T>): Promise<T>;
  /** A NetBox client with the instance's token, decrypted here and kept out of every payload. */
  netboxFor(
    instance: NetBoxInstance,
    options?: Pick<NetBoxConnection, 'timeoutMs' | 'maxAttempts' | 'onAttempt'>,
  ): Promise<NetBoxClient>;
}

export async function openConnections(config: AppConfig): Promise<Connections> {
  if (config.gaiia.apiUrl) {
    throw new Error(
      "GAIIA_API_URL is set, but this build only has the embedded gaiia target; unset GAIIA_API_URL to use it",
    );
  }
  const { db } = await openDatabase(config.databaseUrl);
  const secrets = SecretBox.load(config.dataDir, config.secretKey);
  const instances = new InstanceStore(db, secrets);
  return {
    config,
    db,
    instances,
    gaiia: new EmbeddedGaiia(db),
    inSyncUnit: (work) => db.transaction().execute((trx) => work({ ledger: new Ledger(trx), target: new EmbeddedGaiia(trx) })),
    async netboxFor(instance, options = {}) {
      return new NetBoxClient({
        baseUrl: instance.baseUrl,
        token: await instances.tokenFor(instance.id),
        instanceName: instance.name,
        ...options,
      });
    },
  };
}
