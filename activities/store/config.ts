import path from 'node:path';

/**
 * Everything this package reads from the environment, in one place.
 * Embedded defaults run the whole stack on one machine; each production path
 * (PostgreSQL, an external Temporal cluster, gaiia's GraphQL API) is one variable away.
 */
export interface AppConfig {
  /** Folder for embedded state: the SQLite store, the Temporal dev server's database, the key file. */
  dataDir: string;
  /** `sqlite:<file>` (embedded default) or a `postgres://` URL. */
  databaseUrl: string;
  /** Base64 32-byte key for encrypting tokens and webhook secrets at rest; generated into dataDir when unset. */
  secretKey?: string;
  temporal: {
    /** When set, connect there and start no dev server. */
    address?: string;
    namespace: string;
    taskQueue: string;
    cliPath?: string;
    devServerPort: number;
    devServerUiPort: number;
  };
  gaiia: {
    /** When set (with apiKey), IP Blocks go to gaiia's GraphQL API instead of the embedded target. */
    apiUrl?: string;
    apiKey?: string;
    /**
     * The gaiia tenant this deployment serves, written into NetBox's `gaiia_tenant_id` custom field on the
     * objects it registers, so people looking at NetBox can tell whose webhook it is.
     */
    tenantId: string;
  };
  receiver: {
    port: number;
    host: string;
    /** The URL NetBox uses to reach the receiver; registered in NetBox's webhook. */
    publicUrl: string;
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const dataDir = path.resolve(env.NPS_DATA_DIR ?? path.join(__dirname, '..', '..', '.data'));
  const receiverPort = intFrom(env.RECEIVER_PORT, 8280, 'RECEIVER_PORT');
  const receiverHost = env.RECEIVER_HOST ?? '127.0.0.1';
  return {
    dataDir,
    databaseUrl: env.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'netbox-prefix-sync.sqlite')}`,
    secretKey: env.NPS_SECRET_KEY || undefined,
    temporal: {
      address: env.TEMPORAL_ADDRESS || undefined,
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: env.TEMPORAL_TASK_QUEUE ?? 'netbox-prefix-sync',
      cliPath: env.TEMPORAL_CLI_PATH || undefined,
      devServerPort: intFrom(env.TEMPORAL_DEV_PORT, 7233, 'TEMPORAL_DEV_PORT'),
      devServerUiPort: intFrom(env.TEMPORAL_DEV_UI_PORT, 8233, 'TEMPORAL_DEV_UI_PORT'),
    },
    gaiia: {
      apiUrl: env.GAIIA_API_URL || undefined,
      apiKey: env.GAIIA_API_KEY || undefined,
      tenantId: tenantIdFrom(env.GAIIA_TENANT_ID),
    },
    receiver: {
      port: receiverPort,
      host: receiverHost,
      publicUrl: (env.RECEIVER_PUBLIC_URL ?? `http://${receiverHost}:${receiverPort}`).replace(/\/+$/, ''),
    },
  };
}

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new Error(`${name} must be a port number (0-65535), got '${value}'`);
  }
  return n;
}

function tenantIdFrom(value: string | undefined): string {
  const tenant = value?.trim() || 'embedded';
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(tenant)) {
    throw new Error(`GAIIA_TENANT_ID must be 1-100 letters, digits, '.', '_', ':' or '-', got '${tenant}'`);
  }
  return tenant;
}
