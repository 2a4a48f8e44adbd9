import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { openConnections, type Connections } from './activities/connections';
import { loadConfig } from './activities/store/config';

/** The worker: registers every workflow in workflows/ and every activity, bound to the process's connections. */
export async function createWorker(options: {
  connection: NativeConnection;
  connections: Connections;
  taskQueue?: string;
  namespace?: string;
  /** A pre-built workflow bundle (tests share one to save time); otherwise workflows/ is bundled. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}): Promise<Worker> {
  const { config } = options.connections;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? config.temporal.namespace,
    taskQueue: options.taskQueue ?? config.temporal.taskQueue,
    activities: createActivities(options.connections),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : process.env.WORKFLOW_BUNDLE_PATH
        ? // A bundle made ahead of time (scripts/bundle-workflows.ts) spares the worker webpack's start-up memory.
          { workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH } }
        : { workflowsPath: require.resolve('./workflows') }),
  });
}

/** `npm run worker`: a worker alone, for a deployment where Temporal and the receiver run elsewhere. */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger((process.env.LOG_LEVEL?.toUpperCase() as LogLevel) || 'INFO') });
  const config = loadConfig();
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}`;
  const connection = await NativeConnection.connect({ address });
  const worker = await createWorker({ connection, connections: await openConnections(config) });
  console.log(`worker polling task queue '${config.temporal.taskQueue}' on ${address} (namespace '${config.temporal.namespace}')`);
  await worker.run();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`worker stopped: ${(err as Error).message}`);
    process.exit(1);
  });
}
