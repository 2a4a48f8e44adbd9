/**
 * Records what a real NetBox answers to the requests this project makes (and a few it must survive), as test
 * fixtures: test/fixtures/real-netbox-<version>/api/*.json. test/standin-vs-real-netbox.test.ts replays each one
 * against the NetBox stand-in and compares, so the stand-in cannot drift from the real thing.
 *
 *   set -a; . .data/real-netbox/env; set +a; npx tsx scripts/real-netbox/record-fixtures.ts
 *
 * Run it on the pristine demo database (scripts/real-netbox/setup.sh --reset-db): the stand-in replays the
 * requests on the same demo dump, so ids and values line up. It writes nothing secret: the token is sent, never
 * stored; the webhook it creates (and deletes again) has the test secret "test-secret".
 */
import axios from 'axios';
import fs from 'node:fs';
import path from 'node:path';

import type { RecordedExchange } from '../../test/support/recorded-netbox';

const url = process.env.NETBOX_URL;
const tokens = { '{v1}': process.env.NETBOX_TOKEN ?? '', '{v2}': process.env.NETBOX_TOKEN_V2 ?? '' };
if (!url || !tokens['{v1}'] || !tokens['{v2}']) {
  throw new Error('set NETBOX_URL, NETBOX_TOKEN and NETBOX_TOKEN_V2 (source .data/real-netbox/env after scripts/real-netbox/start.sh)');
}
const BAD_V2 = `nbt_${'a'.repeat(12)}.${'b'.repeat(40)}`;
const BAD_V1 = '0'.repeat(40);

const http = axios.create({ baseURL: url, validateStatus: () => true, timeout: 30_000 });
const recorded: RecordedExchange[] = [];

/**
 * Sends one request and keeps the exchange. `authorization` is the header as sent, with `{v1}`/`{v2}` standing for
 * this NetBox's valid tokens (never stored; a replay puts its own in), or null for none.
 */
async function record(name: string, method: RecordedExchange['method'], target: string, options: { body?: unknown; authorization?: string | null } = {}) {
  const authorization = options.authorization === undefined ? 'Bearer {v2}' : options.authorization;
  const header = authorization?.replace(/\{v[12]\}/g, (k) => tokens[k as keyof typeof tokens]);
  const res = await http.request({
    method,
    url: target,
    data: options.body,
    headers: { Accept: 'application/json', ...(header ? { Authorization: header } : {}), ...(options.body ? { 'Content-Type': 'application/json' } : {}) },
  });
  const exchange: RecordedExchange = {
    name,
    authorization,
    method,
    url: target,
    ...(options.body !== undefined ? { body: options.body } : {}),
    status: res.status,
    apiVersion: (res.headers['api-version'] as string | undefined) ?? null,
    response: res.status === 204 ? null : res.data,
  };
  recorded.push(exchange);
  console.log(`${String(res.status).padEnd(4)} ${method} ${target}  → ${name}`);
  return exchange;
}

async function main() {
  const status = await record('status', 'GET', '/api/status/');
  const version = (status.response as { 'netbox-version': string })['netbox-version'];

  // What the NetBox client sends: the token check, a full sync page, re-reads by id, the role list.
  await record('token-check', 'GET', '/api/ipam/prefixes/?limit=1&brief=1');
  await record('full-sync-page', 'GET', '/api/ipam/prefixes/?ordering=id&id__gt=0&limit=5');
  await record('full-sync-page-after', 'GET', '/api/ipam/prefixes/?ordering=id&id__gt=40&limit=3');
  await record('full-sync-page-role-filter', 'GET', '/api/ipam/prefixes/?ordering=id&id__gt=0&limit=3&role_id=1&role_id=2');
  await record('reread-by-id', 'GET', '/api/ipam/prefixes/?id=1&id=7&id=999999&ordering=id');
  await record('prefix', 'GET', '/api/ipam/prefixes/1/');
  await record('prefix-missing', 'GET', '/api/ipam/prefixes/999999/');
  await record('roles', 'GET', '/api/ipam/roles/?ordering=name');
  await record('sites-page', 'GET', '/api/dcim/sites/?ordering=id&limit=2');
  // NetBox's own paging: default page size, a capped limit, cursor paging (4.6+).
  await record('prefixes-default-page', 'GET', '/api/ipam/prefixes/?ordering=id');
  await record('prefixes-cursor', 'GET', '/api/ipam/prefixes/?start=0&limit=2');
  // Refusals: every failure to authenticate, the way NetBox words it.
  await record('status-no-token', 'GET', '/api/status/', { authorization: null });
  await record('no-token', 'GET', '/api/ipam/prefixes/?limit=1', { authorization: null });
  await record('bad-v2-token', 'GET', '/api/ipam/prefixes/?limit=1', { authorization: `Bearer ${BAD_V2}` });
  await record('bad-v1-token', 'GET', '/api/ipam/prefixes/?limit=1', { authorization: `Token ${BAD_V1}` });
  await record('bad-v1-token-as-bearer', 'GET', '/api/ipam/prefixes/?limit=1', { authorization: `Bearer ${BAD_V1}` });
  await record('header-without-token', 'GET', '/api/ipam/prefixes/?limit=1', { authorization: 'Token' });
  await record('header-with-spaces', 'GET', '/api/ipam/prefixes/?limit=1', { authorization: 'Token a b' });
  await record('basic-auth', 'GET', '/api/ipam/prefixes/?limit=1', { authorization: 'Basic YTpi' });
  await record('v1-token-as-bearer', 'GET', '/api/ipam/prefixes/?limit=1&brief=1', { authorization: 'Bearer {v1}' });
  await record('v2-token-with-token-keyword', 'GET', '/api/ipam/prefixes/?limit=1&brief=1', { authorization: 'Token {v2}' });
  await record('prefix-create-invalid', 'POST', '/api/ipam/prefixes/', { body: { description: 'no prefix given' } });

  // The lifecycle's objects, made and removed again.
  const field = await record('custom-field-create', 'POST', '/api/extras/custom-fields/', {
    body: { name: 'nbsync_fixture', type: 'text', object_types: ['extras.webhook', 'extras.eventrule'], required: false },
  });
  await record('custom-field-create-bad-name', 'POST', '/api/extras/custom-fields/', {
    body: { name: 'nbsync-fixture!', type: 'text', object_types: ['extras.webhook'] },
  });
  const webhook = await record('webhook-create', 'POST', '/api/extras/webhooks/', {
    body: { name: 'nbsync fixture webhook', payload_url: 'http://127.0.0.1:9/webhooks/netbox?instanceId=1', secret: 'test-secret', custom_fields: { nbsync_fixture: 'fixture' } },
  });
  await record('webhook-create-duplicate-name', 'POST', '/api/extras/webhooks/', {
    body: { name: 'nbsync fixture webhook', payload_url: 'http://127.0.0.1:9/other' },
  });
  const webhookId = (webhook.response as { id: number }).id;
  const rule = await record('event-rule-create', 'POST', '/api/extras/event-rules/', {
    body: {
      name: 'nbsync fixture rule',
      object_types: ['ipam.prefix'],
      event_types: ['object_created', 'object_updated', 'object_deleted'],
      action_type: 'webhook',
      action_object_type: 'extras.webhook',
      action_object_id: webhookId,
      enabled: true,
    },
  });
  await record('webhooks-filtered', 'GET', '/api/extras/webhooks/?cf_nbsync_fixture=fixture');
  await record('event-rule-delete', 'DELETE', `/api/extras/event-rules/${(rule.response as { id: number }).id}/`);
  await record('webhook-delete', 'DELETE', `/api/extras/webhooks/${webhookId}/`);
  await record('webhook-delete-again', 'DELETE', `/api/extras/webhooks/${webhookId}/`);
  await record('custom-field-delete', 'DELETE', `/api/extras/custom-fields/${(field.response as { id: number }).id}/`);

  const dir = path.resolve(__dirname, '../../test/fixtures', `real-netbox-${version}`, 'api');
  fs.mkdirSync(dir, { recursive: true });
  for (const e of recorded) fs.writeFileSync(path.join(dir, `${String(recorded.indexOf(e) + 1).padStart(2, '0')}-${e.name}.json`), `${JSON.stringify(e, null, 2)}\n`);
  console.log(`${recorded.length} exchanges written to ${path.relative(process.cwd(), dir)}`);
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
