import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { openConnections, type Connections } from '../activities/connections';
import type { AppConfig } from '../activities/store/config';
import { createWorker } from '../worker';
import { startConfiguredReceiver, type RunningReceiver } from './receiver';
import { startDevServer, type DevServer } from './temporal-server';

export interface RunningStack {
  temporalAddress: string;
  /** The Temporal Web UI, when the embedded dev server runs. */
  uiUrl: string | null;
  connections: Connections;
  worker: Worker;
  /** The NetBox webhook receiver (POST /webhooks/netbox?instanceId=<id>, GET /healthz). */
  receiver: RunningReceiver | null;
  /** Stops the receiver, the worker, then the dev server it started (if any). */
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * The whole embedded stack in one process: the Temporal dev server (unless TEMPORAL_ADDRESS points at one)
 * the worker and the webhook receiver.
 */
export async function startStack(
  config: AppConfig,
  /** `receiver: false` leaves the webhook receiver out (a job that only runs full syncs needs no port). */
  options: { log?: (line: string) => void; temporalAddress?: string; receiver?: boolean } = {},
): Promise<RunningStack> {
  const log = options.log ?? console.log;
  if (!runtimeInstalled) {
    // The SDK's own logs at WARN: activity and workflow progress is reported by the project, without secrets.
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // Already installed by the embedding process (a test, or a host application): keep its logger.
    }
    runtimeInstalled = true;
  }
  let devServer: DevServer | undefined;
  let address = options.temporalAddress ?? config.temporal.address;
  if (!address) {
    devServer = await startDevServer(config, { log });
    address = devServer.address;
    log(`Temporal dev server on ${address}, Web UI at ${devServer.uiUrl} (history kept in ${config.dataDir}/temporal.sqlite)`);
  } else if (!options.temporalAddress) {
    log(`using the Temporal at ${address} (TEMPORAL_ADDRESS)`);
  }
  try {
    const connections = await openConnections(config);
    const connection = await NativeConnection.connect({ address });
    const worker = await createWorker({ connection, connections });
    const running = worker.run();
    running.catch((err) => log(`worker stopped: ${(err as Error).message}`));
    log(`worker registered on task queue '${config.temporal.taskQueue}' (namespace '${config.temporal.namespace}')`);
    const receiver = options.receiver === false ? null : await startConfiguredReceiver(config, connections.instances, address).catch(async (err) => {
      worker.shutdown();
      await running.catch(() => undefined);
      throw err;
    });
    if (receiver) log(`webhook receiver on ${receiver.url}/webhooks/netbox?instanceId=<id> (NetBox reaches it at ${config.receiver.publicUrl})`);
    return {
      temporalAddress: address,
      uiUrl: devServer?.uiUrl ?? null,
      connections,
      worker,
      receiver,
      async stop() {
        await receiver?.close();
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
        await devServer?.stop();
      },
    };
  } catch (err) {
    await devServer?.stop();
    throw err;
  }
}
