/**
 * Runs a NetBox stand-in from the command line (for the demo main job and manual poking):
 *
 *   npx tsx test/netbox-standin/serve.ts --version 4.2 --dump 4.2 --port 8001
 *   npx tsx test/netbox-standin/serve.ts --version 4.5 --generate 100000 --sites 1000
 *
 * Prints the URL and tokens, then serves until interrupted.
 */
import { loadDemoDataset } from './demo-dump';
import { generateDataset } from './generate';
import { NetBoxDataset } from './model';
import { startNetBoxStandIn } from './server';

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument '${argv[i]}'; options look like --version 4.2`);
    out[m[1]] = m[2] ?? argv[++i] ?? '';
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const version = args.version ?? '4.2';
  let dataset: NetBoxDataset;
  if (args.generate) {
    dataset = generateDataset({ prefixes: Number(args.generate), sites: Number(args.sites ?? 1000), seed: Number(args.seed ?? 1) });
  } else {
    const dump = args.dump ?? (version.startsWith('4.1') ? '4.1' : '4.2');
    if (dump !== '4.1' && dump !== '4.2') throw new Error(`--dump must be 4.1 or 4.2 (got '${dump}')`);
    dataset = loadDemoDataset(dump);
  }
  const standIn = await startNetBoxStandIn({
    version,
    dataset,
    port: args.port ? Number(args.port) : 8001,
    host: args.host ?? '127.0.0.1',
    maxPageSize: args['max-page-size'] ? Number(args['max-page-size']) : undefined,
    deliveryConcurrency: args['delivery-concurrency'] ? Number(args['delivery-concurrency']) : undefined,
  });
  console.log(`NetBox ${standIn.fullVersion} stand-in listening on ${standIn.url}`);
  console.log(`url=${standIn.url}`);
  console.log(`token=${standIn.token}`);
  if (standIn.v2Token) console.log(`v2_token=${standIn.v2Token}`);
  console.log(`prefixes=${dataset.prefixes.size} sites=${dataset.sites.size}`);
  const stop = async () => {
    await standIn.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
