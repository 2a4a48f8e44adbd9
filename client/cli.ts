import { Command, InvalidArgumentError } from 'commander';
import { openConnections } from '../activities/connections';
import { loadConfig } from '../activities/store/config';
import type { FullSyncReport } from '../workflows/importNetworkSitePrefixesFullSync';
import { PrefixSyncClient } from './prefix-sync-client';
import { startConfiguredReceiver } from './receiver';
import { startStack } from './stack';

/**
 * The operator's command line, a thin layer over the client module (the same calls a settings backend makes).
 * Every error is printed as one line that says what to do, and exits 1.
 */
export function buildCli(): Command {
  const program = new Command('netbox-prefix-sync')
    .description('Sync NetBox prefixes into gaiia Network Site IP Blocks')
    .option('--json', 'print JSON instead of text')
    .showHelpAfterError();

  const withClient = <A extends unknown[]>(fn: (client: PrefixSyncClient, ...args: A) => Promise<unknown>) =>
    async (...args: A) => {
      const client = await PrefixSyncClient.open();
      try {
        const out = await fn(client, ...args);
        if (out !== undefined) print(out, program.opts().json);
      } finally {
        await client.close();
      }
    };

  program
    .command('start')
    .description('run the stack: Temporal dev server (unless TEMPORAL_ADDRESS is set), the worker and the webhook receiver, until Ctrl-C')
    .action(async () => {
      const stack = await startStack(loadConfig());
      console.log('stack running; Ctrl-C stops it');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await stack.stop();
    });

  program
    .command('receiver')
    .description('run only the NetBox webhook receiver (RECEIVER_HOST/RECEIVER_PORT), signalling the Temporal at TEMPORAL_ADDRESS, until Ctrl-C')
    .action(async () => {
      const config = loadConfig();
      const connections = await openConnections(config);
      const receiver = await startConfiguredReceiver(config, connections.instances, config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}`);
      console.log(`webhook receiver on ${receiver.url}/webhooks/netbox?instanceId=<id>; Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await receiver.close();
    });

  const instance = program.command('instance').description('NetBox instances');
  instance
    .command('add')
    .description('add a NetBox instance (the first is named "Default" unless --name is given)')
    .requiredOption('--url <url>', 'NetBox base URL, e.g. https://netbox.example.com')
    .option('--name <name>', 'unique instance name')
    .option('--token <token>', 'API token (or set NETBOX_TOKEN, which keeps it out of the process list)')
    .action(
      withClient((client, opts: { url: string; name?: string; token?: string }) =>
        client.addInstance({ name: opts.name, baseUrl: opts.url, token: opts.token ?? process.env.NETBOX_TOKEN ?? '' }),
      ),
    );
  instance
    .command('update <name>')
    .description('change an instance; a blank or missing token keeps the current one')
    .option('--new-name <name>')
    .option('--url <url>')
    .option('--token <token>')
    .option('--force', 'accept a new URL although IP Blocks are tracked (the same NetBox at a new address)')
    .action(
      withClient((client, name: string, opts: { newName?: string; url?: string; token?: string; force?: boolean }) =>
        client.updateInstance(name, { name: opts.newName, baseUrl: opts.url, token: opts.token, force: opts.force }),
      ),
    );
  instance.command('list').description('list instances (tokens are never shown)').action(withClient((client) => client.listInstances()));
  instance
    .command('remove <name>')
    .description('disable prefix sync, remove the NetBox webhook, then forget the instance')
    .option('--force', 'remove even if the NetBox webhook cannot be removed (then delete it in NetBox by hand)')
    .action(withClient((client, name: string, opts: { force?: boolean }) => client.removeInstance(name, { force: opts.force })));

  program
    .command('roles')
    .description("list the IPAM roles of an instance's NetBox (ids for --roles)")
    .requiredOption('--instance <name>')
    .action(withClient((client, opts: { instance: string }) => client.listRoles(opts.instance)));

  program
    .command('config')
    .description('every instance: URL, prefix sync, role filter, webhook state, NetBox version (tokens and secrets hidden)')
    .action(withClient((client) => client.getConfig()));

  const webhook = program.command('webhook').description("the instance's webhook and event rules in NetBox (sync enable/disable run these)");
  webhook
    .command('register')
    .description('create or repair the webhook, event rules and tracking custom fields')
    .requiredOption('--instance <name>')
    .option('--rotate-secret', 'replace the webhook secret')
    .action(
      withClient((client, opts: { instance: string; rotateSecret?: boolean }) =>
        client.registerWebhook(opts.instance, { rotateSecret: opts.rotateSecret }),
      ),
    );
  webhook
    .command('remove')
    .description('remove the webhook and event rules (prefix sync must be disabled)')
    .requiredOption('--instance <name>')
    .action(withClient((client, opts: { instance: string }) => client.removeWebhook(opts.instance)));

  program
    .command('request <method> <path>')
    .description("one request to an instance's NetBox API, e.g. request GET /api/status/ --instance Default")
    .requiredOption('--instance <name>')
    .option('--query <key=value...>', 'query parameters (repeat a key for several values)')
    .option('--body <json>', 'JSON request body')
    .action(
      withClient((client, method: string, path: string, opts: { instance: string; query?: string[]; body?: string }) =>
        client.netboxRequest({ instanceName: opts.instance, method, path, query: parseQuery(opts.query ?? []), body: parseBody(opts.body) }),
      ),
    );

  const sync = program.command('sync').description('prefix sync settings and full sync');
  sync
    .command('enable')
    .description('enable prefix sync and register the webhook in NetBox')
    .requiredOption('--instance <name>')
    .option('--roles <ids>', 'comma-separated NetBox IPAM role ids to sync, or "none" for no filter', parseRoles)
    .action(withClient((client, opts: { instance: string; roles?: number[] }) => client.setPrefixSync(opts.instance, true, opts.roles)));
  sync
    .command('disable')
    .description('disable prefix sync and remove the webhook from NetBox')
    .requiredOption('--instance <name>')
    .action(withClient((client, opts: { instance: string }) => client.setPrefixSync(opts.instance, false)));
  sync
    .command('roles')
    .description('set the role filter')
    .requiredOption('--instance <name>')
    .requiredOption('--roles <ids>', 'comma-separated NetBox IPAM role ids, or "none"', parseRoles)
    .action(withClient((client, opts: { instance: string; roles: number[] }) => client.setRoleFilter(opts.instance, opts.roles)));
  sync
    .command('full')
    .description('run a full sync through Temporal and print its report')
    .requiredOption('--instance <name>')
    .option('--page-size <n>', 'prefixes per NetBox request (1-1000)', parsePageSize)
    .action(
      withClient(async (client, opts: { instance: string; pageSize?: number }) => {
        const report = await client.runFullSync(opts.instance, { pageSize: opts.pageSize });
        return program.opts().json ? report : formatReport(report);
      }),
    );

  sync
    .command('reconcile')
    .description('after lost webhooks (receiver down): re-read every prefix we have an IP Block for; removes and moves what a full sync cannot')
    .requiredOption('--instance <name>')
    .action(withClient((client, opts: { instance: string }) => client.reconcile(opts.instance)));

  const sites = program.command('sites').description("the embedded gaiia target's Network Sites");
  sites.command('add <names...>').action(withClient(async (client, names: string[]) => Promise.all(names.map((n) => client.addNetworkSite(n)))));
  sites.command('list').action(withClient((client) => client.listNetworkSites()));

  const blocks = program.command('blocks').description("the embedded gaiia target's IP Blocks");
  blocks
    .command('list')
    .option('--site <name>', 'only this Network Site')
    .action(
      withClient(async (client, opts: { site?: string }) => {
        if (opts.site !== undefined && !(await client.listNetworkSites()).some((s) => s.name === opts.site)) {
          throw new Error(`no Network Site named '${opts.site}' (names are case-sensitive; see: sites list)`);
        }
        const all = await client.listIpBlocks();
        return all.filter((b) => !opts.site || b.networkSiteName === opts.site);
      }),
    );
  blocks
    .command('add-manual')
    .description('add a block by hand, as a gaiia user would (the sync never touches it)')
    .requiredOption('--site <name>')
    .requiredOption('--block <cidr>')
    .option('--description <text>', '', '')
    .action(withClient((client, opts: { site: string; block: string; description: string }) => client.addManualIpBlock(opts.site, opts.block, opts.description)));

  return program;
}

function parseQuery(pairs: string[]): Record<string, string | string[]> | undefined {
  const query: Record<string, string | string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`--query takes key=value, got '${pair}'`);
    const [key, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
    const prev = query[key];
    query[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return pairs.length ? query : undefined;
}

function parseBody(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidArgumentError(`--body must be JSON, e.g. '{"name": "x"}'`);
  }
}

export function parseRoles(value: string): number[] {
  if (value.trim().toLowerCase() === 'none') return [];
  const parts = value.split(',').map((v) => v.trim());
  // Digits only: Number() would read '1e3' as 1000 and '0x10' as 16.
  const ids = parts.map((v) => (/^\d{1,9}$/.test(v) ? Number(v) : NaN));
  if (ids.some((id) => !Number.isInteger(id) || id <= 0)) {
    throw new InvalidArgumentError('give NetBox IPAM role ids separated by commas (e.g. 1,4), or "none"');
  }
  return ids;
}

export function parsePageSize(value: string): number {
  const n = /^\d{1,4}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!(n >= 1 && n <= 1000)) throw new InvalidArgumentError('give a whole number of prefixes from 1 to 1000');
  return n;
}

export function formatReport(r: FullSyncReport): string {
  // Prefixes the role filter leaves out are never fetched (NetBox applies the filter): counted apart.
  const { filteredByRole, ...lookedAtSkips } = r.skipped;
  const skipped = Object.entries(lookedAtSkips).filter(([, n]) => n > 0);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    `Full sync of '${r.instanceName}' (NetBox ${r.netboxVersion}, ${r.netboxPrefixCount ?? '?'} prefixes in NetBox, ${plural(r.pages, 'page')}, ${plural(r.runs, 'workflow run')})`,
    ...(filteredByRole ? [`  left out by the role filter: ${filteredByRole}`] : []),
    `  prefixes looked at: ${r.prefixes}`,
    `    created: ${r.created}`,
    `    updated: ${r.updated}`,
    `    already present: ${r.alreadyPresent}`,
    `    skipped: ${skipped.reduce((sum, [, n]) => sum + n, 0)}`,
    ...skipped.map(([reason, n]) => `      ${reason}: ${n}`),
    ...(r.missingNetworkSites.length ? [`  NetBox sites with no Network Site of that exact name: ${r.missingNetworkSites.join(', ')}`] : []),
    ...r.conflicts.map((c) => `  conflict: prefix ${c.prefixId} ${c.cidr} on '${c.networkSite}' is taken by a block this prefix did not create`),
    ...(r.skipped.ownBlockOnAnotherSite
      ? [`  ${r.skipped.ownBlockOnAnotherSite} prefix${r.skipped.ownBlockOnAnotherSite === 1 ? '' : 'es'} moved to another site since their block was made (webhooks lost?): a full sync only adds; run: sync reconcile --instance '${r.instanceName}'`]
      : []),
  ].join('\n');
}

function print(value: unknown, json: boolean): void {
  if (typeof value === 'string') console.log(value);
  else if (json || !Array.isArray(value)) console.log(JSON.stringify(value, null, 2));
  else if (value.length === 0) console.log('(none)');
  else console.table(value);
}

if (require.main === module) {
  buildCli()
    .parseAsync(process.argv)
    .catch((err: Error) => {
      console.error(`error: ${err.message}`);
      process.exit(1);
    });
}
