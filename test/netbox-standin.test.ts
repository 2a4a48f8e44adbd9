/**
 * The NetBox stand-in must behave like the NetBox releases it claims to be: these tests pin the
 * behaviours the sync relies on (dump contents, per-version shapes, auth, pagination, cascade vs
 * PROTECT, extras validation, webhook bodies and signatures, delivery control). No Temporal here.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { demoDumpPath, loadDemoDataset, parseCopyBlocks } from './netbox-standin/demo-dump';
import { generateDataset } from './netbox-standin/generate';
import { NetBoxStandIn, StandInOptions, startNetBoxStandIn } from './netbox-standin/server';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const running: NetBoxStandIn[] = [];
const receivers: Receiver[] = [];

async function standIn(opts: Partial<StandInOptions> & { version: string }): Promise<NetBoxStandIn> {
  const nb = await startNetBoxStandIn({ dataset: loadDemoDataset(opts.version.startsWith('4.1') ? '4.1' : '4.2'), ...opts });
  running.push(nb);
  return nb;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((nb) => nb.close()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function api(
  nb: NetBoxStandIn,
  method: string,
  path: string,
  body?: unknown,
  auth: string | null = `Token ${nb.token}`,
): Promise<{ status: number; body: Body; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (auth) headers.Authorization = auth;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${nb.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('application/json');
  return { status: res.status, body: json && text ? JSON.parse(text) : { text }, headers: res.headers };
}

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  json: Body;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Status to answer with (default 200). */
  status: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const receiver = { url: '', received, status: 200, close: async () => undefined } as Receiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({ path: req.url ?? '', headers: req.headers, raw, json: JSON.parse(raw.toString('utf8') || '{}') });
      res.statusCode = receiver.status;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise((resolve) => server.close(() => resolve()));
  receivers.push(receiver);
  return receiver;
}

/** A webhook plus one rule for prefix and site create/update/delete, as the sync registers them. */
async function subscribe(nb: NetBoxStandIn, receiver: Receiver, secret = 's3cret', objectTypes = ['ipam.prefix', 'dcim.site', 'ipam.role']) {
  const webhook = await api(nb, 'POST', '/api/extras/webhooks/', { name: 'prefix-sync', payload_url: `${receiver.url}/hook`, secret });
  expect(webhook.status).toBe(201);
  const rule = await api(nb, 'POST', '/api/extras/event-rules/', {
    name: 'prefix-sync',
    object_types: objectTypes,
    event_types: ['object_created', 'object_updated', 'object_deleted'],
    action_type: 'webhook',
    action_object_type: 'extras.webhook',
    action_object_id: webhook.body.id,
  });
  expect(rule.status).toBe(201);
  return { webhook: webhook.body, rule: rule.body };
}

// ---------------------------------------------------------------------------------------------------------

describe('demo dumps', () => {
  test('4.2 dump: 90 prefixes (65 scoped to dcim.site, 25 unscoped), 24 sites, 5 roles', () => {
    const ds = loadDemoDataset('4.2');
    const prefixes = ds.prefixes.all();
    expect(prefixes).toHaveLength(90);
    expect(prefixes.filter((p) => p.scopeType === 'dcim.site')).toHaveLength(65);
    expect(prefixes.filter((p) => p.scopeType === null)).toHaveLength(25);
    expect(ds.sites.size).toBe(24);
    expect(ds.roles.size).toBe(5);
    expect(ds.source).toBe('4.2');
  });

  test('4.1 dump: 90 prefixes (65 with site_id, 25 without), 24 sites, 5 roles; site_id becomes a dcim.site scope', () => {
    const ds = loadDemoDataset('4.1');
    const prefixes = ds.prefixes.all();
    expect(prefixes).toHaveLength(90);
    expect(prefixes.filter((p) => p.scopeType === 'dcim.site')).toHaveLength(65);
    expect(prefixes.filter((p) => p.scopeType === null)).toHaveLength(25);
    expect(ds.sites.size).toBe(24);
    expect(ds.roles.size).toBe(5);
    const p7 = ds.prefixes.get(7)!;
    expect(p7).toMatchObject({ prefix: '10.112.128.0/28', scopeType: 'dcim.site', scopeId: 2, roleId: 4, depth: 3 });
    expect(p7.cached.siteId).toBe(2);
  });

  test('4.2 cached scope columns match the dump’s own _site_id/_region_id/_site_group_id', () => {
    const ds = loadDemoDataset('4.2');
    const rows = parseCopyBlocks(readFileSync(demoDumpPath('4.2'), 'utf8'), ['public.ipam_prefix']).get('public.ipam_prefix')!;
    for (const row of rows) {
      const p = ds.prefixes.get(Number(row.id))!;
      expect([p.cached.siteId, p.cached.regionId, p.cached.siteGroupId, p.cached.locationId]).toEqual(
        [row._site_id, row._region_id, row._site_group_id, row._location_id].map((v) => (v === null ? null : Number(v))),
      );
    }
  });

  test('COPY parsing uses the header’s column names and PostgreSQL text escapes', () => {
    const sql = [
      'COPY public.ipam_role (name, id, description) FROM stdin;',
      'Tab\\there\t7\tline\\nbreak \\\\ back',
      'Null\t8\t\\N',
      '\\.',
    ].join('\n');
    const rows = parseCopyBlocks(sql, ['ipam_role']).get('ipam_role')!;
    expect(rows).toEqual([
      { name: 'Tab\there', id: '7', description: 'line\nbreak \\ back' },
      { name: 'Null', id: '8', description: null },
    ]);
    const cf = loadDemoDataset('4.2').customFields.all();
    expect(cf).toEqual([expect.objectContaining({ name: 'cust_id', validationRegex: '^[A-Z]{3}\\d{2}$', objectTypes: ['tenancy.tenant'] })]);
  });
});

describe('generated datasets', () => {
  test('are deterministic and have the documented mix', () => {
    const a = generateDataset({ prefixes: 20_000, sites: 200, seed: 7 });
    const b = generateDataset({ prefixes: 20_000, sites: 200, seed: 7 });
    expect(a.prefixes.all().map((p) => [p.prefix, p.scopeType, p.scopeId, p.roleId])).toEqual(
      b.prefixes.all().map((p) => [p.prefix, p.scopeType, p.scopeId, p.roleId]),
    );
    const all = a.prefixes.all();
    const share = (pred: (p: (typeof all)[number]) => boolean) => all.filter(pred).length / all.length;
    expect(share((p) => p.scopeType === 'dcim.site')).toBeGreaterThan(0.83);
    expect(share((p) => p.scopeType === 'dcim.site')).toBeLessThan(0.87);
    expect(share((p) => p.scopeType === null)).toBeGreaterThan(0.06);
    expect(share((p) => p.scopeType === 'dcim.location')).toBeGreaterThan(0.02);
    expect(share((p) => p.scopeType === 'dcim.region')).toBeGreaterThan(0.01);
    expect(share((p) => p.roleId !== null)).toBeGreaterThan(0.75);
    expect(new Set(all.map((p) => p.prefix)).size).toBe(all.length);
  });

  test('100 pages of 1,000 prefixes from 100,000 are served quickly', async () => {
    const dataset = generateDataset({ prefixes: 100_000, sites: 1_000, seed: 42 });
    const nb = await standIn({ version: '4.2', dataset });
    const started = Date.now();
    let lastId = 0;
    let seen = 0;
    for (let page = 0; page < 100; page++) {
      const res = await api(nb, 'GET', `/api/ipam/prefixes/?ordering=id&limit=1000&id__gt=${lastId}`);
      expect(res.status).toBe(200);
      seen += res.body.results.length;
      lastId = res.body.results.at(-1).id;
    }
    const elapsed = Date.now() - started;
    expect(seen).toBe(100_000);
    expect(elapsed).toBeLessThan(20_000);
  });
});

describe('REST shapes per version', () => {
  test('4.1 prefixes carry `site`; 4.2 prefixes carry scope_type/scope_id/scope and no `site`', async () => {
    const v41 = await standIn({ version: '4.1' });
    const p41 = (await api(v41, 'GET', '/api/ipam/prefixes/7/')).body;
    expect(p41.site).toEqual({ id: 2, url: `${v41.url}/api/dcim/sites/2/`, display: 'DM-Akron', name: 'DM-Akron', slug: 'dm-akron', description: '' });
    expect(p41).not.toHaveProperty('scope');
    expect(p41).not.toHaveProperty('scope_type');

    const v42 = await standIn({ version: '4.2' });
    const p42 = (await api(v42, 'GET', '/api/ipam/prefixes/7/')).body;
    expect(p42).not.toHaveProperty('site');
    expect(p42).toMatchObject({ scope_type: 'dcim.site', scope_id: 2, scope: { id: 2, name: 'DM-Akron', slug: 'dm-akron' } });
    expect(p42.role).toEqual({ id: 4, url: `${v42.url}/api/ipam/roles/4/`, display: 'Management', name: 'Management', slug: 'management', description: '' });
    expect(p42).toMatchObject({ id: 7, display: '10.112.128.0/28', family: { value: 4, label: 'IPv4' }, status: { value: 'active', label: 'Active' }, _depth: 3 });
    expect(p42.display_url).toBe(`${v42.url}/ipam/prefixes/7/`);
    expect(p42.last_updated).toBe('2020-12-30T20:13:41.316000Z');
  });

  test('4.2 location and region scopes render their own brief shapes', async () => {
    const nb = await standIn({ version: '4.2' });
    const loc = await api(nb, 'POST', '/api/ipam/prefixes/', { prefix: '192.0.2.0/24', scope_type: 'dcim.location', scope_id: 1 });
    expect(loc.status).toBe(201);
    expect(Object.keys(loc.body.scope).sort()).toEqual(['_depth', 'description', 'display', 'id', 'name', 'rack_count', 'slug', 'url']);
    const region = await api(nb, 'POST', '/api/ipam/prefixes/', { prefix: '198.51.100.0/24', scope_type: 'dcim.region', scope_id: 1 });
    expect(Object.keys(region.body.scope).sort()).toEqual(['_depth', 'description', 'display', 'id', 'name', 'site_count', 'slug', 'url']);
    // site_id matches the cached site, so the location-scoped prefix shows up under the location's site.
    const siteId = nb.dataset.locations.get(1)!.siteId;
    const bySite = await api(nb, 'GET', `/api/ipam/prefixes/?site_id=${siteId}&limit=0`);
    expect(bySite.body.results.map((p: Body) => p.id)).toContain(loc.body.id);
    const siteScoped = await api(nb, 'GET', `/api/ipam/prefixes/?scope_type=dcim.site&scope_id=${siteId}&limit=0`);
    expect(siteScoped.body.results.map((p: Body) => p.id)).not.toContain(loc.body.id);
  });

  test('/api/status/ per version, and API-Version on every response', async () => {
    const v42 = await standIn({ version: '4.2' });
    const s42 = await api(v42, 'GET', '/api/status/');
    expect(s42.status).toBe(200);
    expect(s42.headers.get('api-version')).toBe('4.2');
    expect(s42.body['netbox-version']).toBe('4.2.9');
    expect(s42.body).toHaveProperty('installed-apps');
    expect(s42.body).not.toHaveProperty('netbox-full-version');
    expect(s42.body).toHaveProperty('rq-workers-running');

    const v44 = await standIn({ version: '4.4' });
    const s44 = await api(v44, 'GET', '/api/status/');
    expect(s44.body).toHaveProperty('installed_apps');
    expect(s44.body).not.toHaveProperty('installed-apps');
    expect(s44.body['netbox-full-version']).toBe(s44.body['netbox-version']);

    // LOGIN_REQUIRED (the default since 4.0): even status needs a token, and NetBox refuses with 403.
    const denied = await api(v44, 'GET', '/api/status/', undefined, null);
    expect(denied.status).toBe(403);
    expect(denied.headers.get('api-version')).toBe('4.4');
  });

  test('brief and fields select keys; unknown query parameters are ignored', async () => {
    const nb = await standIn({ version: '4.2' });
    const brief = await api(nb, 'GET', '/api/ipam/prefixes/?brief=1&limit=1&ordering=id&no_such_filter=1');
    expect(Object.keys(brief.body.results[0])).toEqual(['id', 'url', 'display', 'family', 'prefix', 'description', '_depth']);
    const fields = await api(nb, 'GET', '/api/ipam/prefixes/?fields=id,prefix&limit=1');
    expect(Object.keys(fields.body.results[0])).toEqual(['id', 'prefix']);
    expect(brief.body.count).toBe(90);
  });
});

describe('authentication and permissions', () => {
  test('missing and invalid tokens get 403 (never 401) with NetBox’s messages, per version', async () => {
    const nb = await standIn({ version: '4.2' });
    const get = (authorization: string | null) => api(nb, 'GET', '/api/ipam/prefixes/', undefined, authorization);
    expect(await get(null)).toMatchObject({ status: 403, body: { detail: 'Authentication credentials were not provided.' } });
    expect(await get(`Token ${'0'.repeat(40)}`)).toMatchObject({ status: 403, body: { detail: 'Invalid token' } });
    expect(await get('Token')).toMatchObject({ status: 403, body: { detail: 'Invalid token header. No credentials provided.' } });
    expect((await get(`Token ${'0'.repeat(40)}`)).headers.get('www-authenticate')).toBeNull();
    // 4.5+ words it as a real 4.7.3 does (test/standin-vs-real-netbox.test.ts replays the recordings).
    const v47 = await standIn({ version: '4.7' });
    expect(await api(v47, 'GET', '/api/ipam/prefixes/', undefined, `Bearer nbt_${'a'.repeat(12)}.${'b'.repeat(40)}`)).toMatchObject({ status: 403, body: { detail: 'Invalid v2 token' } });
    expect(await api(v47, 'GET', '/api/ipam/prefixes/', undefined, `Bearer ${'0'.repeat(40)}`)).toMatchObject({ status: 403, body: { detail: 'Invalid v1 token' } });
  });

  test('4.5 accepts Bearer v2 tokens and has /api/authentication-check/', async () => {
    const nb = await standIn({ version: '4.5' });
    expect(nb.v2Token).toMatch(/^nbt_[A-Za-z0-9]{12}\.[A-Za-z0-9]{40}$/);
    expect((await api(nb, 'GET', '/api/ipam/prefixes/?limit=1', undefined, `Bearer ${nb.v2Token}`)).status).toBe(200);
    expect((await api(nb, 'GET', '/api/ipam/prefixes/?limit=1', undefined, `Token ${nb.token}`)).status).toBe(200);
    const check = await api(nb, 'GET', '/api/authentication-check/', undefined, `Bearer ${nb.v2Token}`);
    expect(check).toMatchObject({ status: 200, body: { username: 'admin' } });
  });

  test('4.1 rejects a Bearer header and has no authentication-check endpoint', async () => {
    const nb = await standIn({ version: '4.1' });
    const bearer = await api(nb, 'GET', '/api/ipam/prefixes/', undefined, `Bearer nbt_abcdefghijkl.${'a'.repeat(40)}`);
    expect(bearer).toMatchObject({ status: 403, body: { detail: 'Authentication credentials were not provided.' } });
    expect((await api(nb, 'GET', '/api/authentication-check/')).status).toBe(404);
    await expect(startNetBoxStandIn({ version: '4.1', dataset: loadDemoDataset('4.1'), tokens: [{ token: `nbt_abcdefghijkl.${'a'.repeat(40)}` }] })).rejects.toThrow(/4\.5/);
  });

  test('a token without a permission gets 403', async () => {
    const token = 'a'.repeat(40);
    const nb = await standIn({ version: '4.2', tokens: [{ token, permissions: ['ipam.view_prefix'] }] });
    expect((await api(nb, 'GET', '/api/ipam/prefixes/?limit=1')).status).toBe(200);
    expect(await api(nb, 'GET', '/api/ipam/roles/')).toMatchObject({ status: 403, body: { detail: 'You do not have permission to perform this action.' } });
    expect((await api(nb, 'POST', '/api/extras/webhooks/', { name: 'x', payload_url: 'http://x/' })).status).toBe(403);
    expect((await api(nb, 'DELETE', '/api/dcim/sites/1/')).status).toBe(403);
  });
});

describe('pagination and filters', () => {
  test('limit is capped silently to MAX_PAGE_SIZE, limit=0 means the max, next uses the advertised host', async () => {
    const nb = await standIn({ version: '4.2', maxPageSize: 25, advertisedHost: 'wrong-host.invalid:1' });
    const capped = await api(nb, 'GET', '/api/ipam/prefixes/?limit=1000&ordering=id');
    expect(capped.body.results).toHaveLength(25);
    expect(capped.body.count).toBe(90);
    expect(capped.body.next).toBe('http://wrong-host.invalid:1/api/ipam/prefixes/?limit=25&offset=25&ordering=id');
    expect(capped.body.results[0].url).toBe('http://wrong-host.invalid:1/api/ipam/prefixes/1/');
    expect((await api(nb, 'GET', '/api/ipam/prefixes/?limit=0')).body.results).toHaveLength(25);

    // Walking `next` (with the host replaced, as a careful client does) visits every prefix once.
    const ids: number[] = [];
    let next: string | null = '/api/ipam/prefixes/?ordering=id&limit=1000';
    while (next) {
      const u = new URL(next, 'http://ignored');
      const page = await api(nb, 'GET', `${u.pathname}${u.search}`);
      ids.push(...page.body.results.map((p: Body) => p.id));
      next = page.body.next;
    }
    expect(ids).toEqual(nb.dataset.prefixes.all().map((p) => p.id));
    const last = await api(nb, 'GET', '/api/ipam/prefixes/?limit=25&offset=75');
    expect(last.body.next).toBeNull();
    expect(last.body.previous).toBe('http://wrong-host.invalid:1/api/ipam/prefixes/?limit=25&offset=50');
  });

  test('default page is 50 and default ordering is NetBox’s (vrf nulls first, prefix, pk)', async () => {
    const nb = await standIn({ version: '4.2' });
    const page = await api(nb, 'GET', '/api/ipam/prefixes/');
    expect(page.body.results).toHaveLength(50);
    expect(page.body.results.slice(0, 3).map((p: Body) => p.prefix)).toEqual(['10.112.0.0/15', '10.112.0.0/17', '10.112.128.0/17']);
    // Within the global table: PostgreSQL cidr order = (network address, mask length) for IPv4 networks.
    const key = (cidr: string) => {
      const [addr, len] = cidr.split('/');
      return addr.split('.').reduce((n, o) => n * 256 + Number(o), 0) * 64 + Number(len);
    };
    const globalTable = page.body.results.map((p: Body) => p.prefix as string);
    expect(globalTable).toEqual([...globalTable].sort((a, b) => key(a) - key(b)));
    const all = (await api(nb, 'GET', '/api/ipam/prefixes/?limit=0&fields=vrf')).body.results as Body[];
    const firstWithVrf = all.findIndex((p) => p.vrf !== null);
    expect(firstWithVrf).toBeGreaterThan(0);
    expect(all.slice(firstWithVrf).every((p) => p.vrf !== null)).toBe(true);
  });

  test('role_id (repeatable, null), role slug, id__gt, last_updated__gte and invalid values like NetBox', async () => {
    const nb = await standIn({ version: '4.2' });
    const count = async (q: string) => (await api(nb, 'GET', `/api/ipam/prefixes/?${q}`)).body.count;
    expect(await count('role_id=null')).toBe(37);
    expect(await count('role_id=1&role_id=2')).toBe(26);
    expect(await count('role=management')).toBe(13);
    expect(await count('role_id__n=1')).toBe(77);
    expect(await count('id__gt=80')).toBe(nb.dataset.prefixes.all().filter((p) => p.id > 80).length);
    expect(await count('last_updated__gte=2022-01-01')).toBe(21);
    expect(await api(nb, 'GET', '/api/ipam/prefixes/?role_id=abc')).toMatchObject({
      status: 400,
      body: { role_id: ['Select a valid choice. abc is not one of the available choices.'] },
    });
    expect((await api(nb, 'GET', '/api/ipam/prefixes/?role_id=999')).status).toBe(400);
    expect((await api(nb, 'GET', '/api/ipam/prefixes/?last_updated__gte=yesterday')).body).toEqual({ last_updated__gte: ['Enter a valid date/time.'] });
  });

  test('4.1 filters by site_id and site slug', async () => {
    const nb = await standIn({ version: '4.1' });
    const bySlug = await api(nb, 'GET', '/api/ipam/prefixes/?site=dm-akron&limit=0');
    const byId = await api(nb, 'GET', '/api/ipam/prefixes/?site_id=2&limit=0');
    expect(bySlug.body.count).toBeGreaterThan(0);
    expect(bySlug.body.results.map((p: Body) => p.id)).toEqual(byId.body.results.map((p: Body) => p.id));
    expect(byId.body.results.every((p: Body) => p.site.id === 2)).toBe(true);
  });

  test('4.6 cursor paging: start=<pk>, count null, not combinable with offset/ordering', async () => {
    const nb = await standIn({ version: '4.6', dataset: loadDemoDataset('4.2') });
    const page = await api(nb, 'GET', '/api/ipam/prefixes/?start=0&limit=40');
    expect(page.body.count).toBeNull();
    expect(page.body.results.map((p: Body) => p.id)).toEqual(nb.dataset.prefixes.all().slice(0, 40).map((p) => p.id));
    const nextStart = new URL(page.body.next).searchParams.get('start');
    expect(Number(nextStart)).toBe(page.body.results.at(-1).id + 1);
    expect((await api(nb, 'GET', '/api/ipam/prefixes/?start=0&offset=10')).status).toBe(400);
    expect((await api(nb, 'GET', '/api/ipam/prefixes/?start=0&ordering=prefix')).status).toBe(400);
    // Before 4.6 `start` is an unknown parameter: ignored.
    const v42 = await standIn({ version: '4.2' });
    expect((await api(v42, 'GET', '/api/ipam/prefixes/?start=50')).body.count).toBe(90);
  });
});

describe('writes', () => {
  test('prefix POST/PATCH per version: 4.1 takes site, 4.2 ignores site and takes scope_type/scope_id', async () => {
    const v41 = await standIn({ version: '4.1' });
    const c41 = await api(v41, 'POST', '/api/ipam/prefixes/', { prefix: '192.0.2.0/24', site: 3, role: 1, description: 'x' });
    expect(c41.status).toBe(201);
    expect(c41.body).toMatchObject({ site: { id: 3 }, role: { id: 1 }, status: { value: 'active' } });

    const v42 = await standIn({ version: '4.2' });
    const ignored = await api(v42, 'POST', '/api/ipam/prefixes/', { prefix: '192.0.2.0/24', site: 3 });
    expect(ignored.body.scope).toBeNull();
    const scoped = await api(v42, 'POST', '/api/ipam/prefixes/', { prefix: '192.0.2.0/24', scope_type: 'dcim.site', scope_id: 3 });
    expect(scoped.body).toMatchObject({ scope_type: 'dcim.site', scope_id: 3, scope: { id: 3 } });
    const patched = await api(v42, 'PATCH', `/api/ipam/prefixes/${scoped.body.id}/`, { description: 'moved' });
    expect(patched.body).toMatchObject({ description: 'moved', scope_id: 3 });
    expect(patched.body.last_updated >= scoped.body.last_updated).toBe(true);

    expect(await api(v42, 'POST', '/api/ipam/prefixes/', { prefix: 'not-a-prefix' })).toMatchObject({ status: 400, body: { prefix: [expect.any(String)] } });
    expect(await api(v42, 'POST', '/api/ipam/prefixes/', {})).toMatchObject({ status: 400, body: { prefix: ['This field is required.'] } });
    expect((await api(v42, 'POST', '/api/ipam/prefixes/', { prefix: '10.0.0.0/8', role: 999 })).body).toEqual({
      role: ['Related object not found using the provided numeric ID: 999'],
    });
    expect((await api(v42, 'POST', '/api/ipam/prefixes/', { prefix: '10.0.0.0/8', status: 'bogus' })).status).toBe(400);
    expect((await api(v42, 'GET', '/api/ipam/prefixes/99999/')).body).toEqual({ detail: 'No Prefix matches the given query.' });
  });

  test('4.1: deleting a site that prefixes reference is refused with 409 (Prefix.site is PROTECT)', async () => {
    const nb = await standIn({ version: '4.1' });
    const res = await api(nb, 'DELETE', '/api/dcim/sites/2/');
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/^Unable to delete object\. \d+ dependent objects were found: 10\.112\.128\.0\/28 \(7\), /);
    expect(nb.dataset.sites.has(2)).toBe(true);
  });

  test('4.2: deleting a site cascades to its prefixes (also location-scoped) with one deleted event each', async () => {
    const nb = await standIn({ version: '4.2' });
    const receiver = await startReceiver();
    await subscribe(nb, receiver);
    const siteId = nb.dataset.locations.get(1)!.siteId;
    nb.createPrefix({ prefix: '192.0.2.0/24', scope: { type: 'dcim.location', id: 1 } });
    nb.createPrefix({ prefix: '198.51.100.0/24', siteId });
    await nb.flushDeliveries();
    receiver.received.length = 0;
    const doomed = nb.dataset.prefixIdsInSite(siteId);
    expect(doomed.length).toBeGreaterThan(1);

    expect((await api(nb, 'DELETE', `/api/dcim/sites/${siteId}/`)).status).toBe(204);
    await nb.flushDeliveries();
    expect(nb.dataset.sites.has(siteId)).toBe(false);
    expect(doomed.every((id) => !nb.dataset.prefixes.has(id))).toBe(true);
    const events = receiver.received.map((r) => `${r.json.model}:${r.json.event}:${r.json.data.id}`);
    expect(events.sort()).toEqual([...doomed.map((id) => `prefix:deleted:${id}`), `site:deleted:${siteId}`].sort());
  });

  test('deleting a role nulls prefix roles; prefix updated events from 4.2.9, none before', async () => {
    for (const [version, expected] of [['4.2.9', 13], ['4.2.8', 0]] as const) {
      const nb = await standIn({ version });
      const receiver = await startReceiver();
      await subscribe(nb, receiver);
      nb.deleteRole(4);
      await nb.flushDeliveries();
      const prefixUpdates = receiver.received.filter((r) => r.json.model === 'prefix' && r.json.event === 'updated');
      expect(prefixUpdates).toHaveLength(expected);
      if (expected) expect(prefixUpdates[0].json.snapshots).toMatchObject({ prechange: { role: 4 }, postchange: { role: null } });
      expect(receiver.received.filter((r) => r.json.model === 'role' && r.json.event === 'deleted')).toHaveLength(1);
      expect(nb.dataset.prefixes.all().some((p) => p.roleId === 4)).toBe(false);
    }
  });
});

describe('extras: webhooks, event rules, custom fields', () => {
  test('custom field names: ^[a-z0-9_]+$ (case-insensitive), no __, ≤50 chars, unique across NetBox', async () => {
    const nb = await standIn({ version: '4.2' });
    const post = (name: string) => api(nb, 'POST', '/api/extras/custom-fields/', { name, type: 'text', object_types: ['extras.webhook'] });
    expect((await post('my-field')).body).toEqual({ name: ['Only alphanumeric characters and underscores are allowed.'] });
    expect((await post('a__b')).body).toEqual({ name: ['Double underscores are not permitted in custom field names.'] });
    expect((await post('x'.repeat(51))).body).toEqual({ name: ['Ensure this field has no more than 50 characters.'] });
    expect((await post('cust_id')).body).toEqual({ name: ['custom field with this name already exists.'] });
    expect((await post('prefix_sync_owner')).status).toBe(201);
    expect((await post('prefix_sync_owner')).status).toBe(400);
    expect((await api(nb, 'POST', '/api/extras/custom-fields/', { name: 'y', object_types: ['nope.nothing'] })).body).toEqual({
      object_types: ['Invalid content type: nope.nothing'],
    });
  });

  test('webhooks: required/unique fields, readable secret, custom field values and cf_ filters', async () => {
    const nb = await standIn({ version: '4.2' });
    expect((await api(nb, 'POST', '/api/extras/webhooks/', {})).body).toEqual({ name: ['This field is required.'], payload_url: ['This field is required.'] });
    expect((await api(nb, 'POST', '/api/extras/webhooks/', { name: 'n'.repeat(151), payload_url: 'http://x/' })).body).toEqual({
      name: ['Ensure this field has no more than 150 characters.'],
    });
    expect((await api(nb, 'POST', '/api/extras/webhooks/', { name: 'w', payload_url: 'http://x/', custom_fields: { owner: 'me' } })).body).toEqual({
      __all__: ["Unknown field name 'owner' in custom field data."],
    });
    await api(nb, 'POST', '/api/extras/custom-fields/', { name: 'owner', type: 'text', object_types: ['extras.webhook', 'extras.eventrule'] });
    const created = await api(nb, 'POST', '/api/extras/webhooks/', { name: 'w', payload_url: 'http://x/', secret: 'abc', custom_fields: { owner: 'sync-1' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ http_method: 'POST', http_content_type: 'application/json', secret: 'abc', ssl_verification: true, custom_fields: { owner: 'sync-1' } });
    expect(created.body).not.toHaveProperty('timeout');
    expect((await api(nb, 'POST', '/api/extras/webhooks/', { name: 'w', payload_url: 'http://y/' })).body).toEqual({ name: ['webhook with this name already exists.'] });
    expect((await api(nb, 'GET', '/api/extras/webhooks/?cf_owner=sync-1')).body.count).toBe(1);
    expect((await api(nb, 'GET', '/api/extras/webhooks/?cf_owner=other')).body.count).toBe(0);
    expect((await api(nb, 'GET', '/api/extras/webhooks/?name=w')).body.count).toBe(1);

    const v47 = await standIn({ version: '4.7' });
    const w47 = await api(v47, 'POST', '/api/extras/webhooks/', { name: 'w', payload_url: 'http://x/', timeout: 5 });
    expect(w47.body.timeout).toBe(5);
  });

  test('event rules validate event types, object types and the webhook; deleting the webhook deletes its rules', async () => {
    const nb = await standIn({ version: '4.2' });
    const receiver = await startReceiver();
    const { webhook, rule } = await subscribe(nb, receiver);
    expect(rule).toMatchObject({ enabled: true, action_type: { value: 'webhook' }, action_object: { id: webhook.id, name: 'prefix-sync' } });
    const bad = await api(nb, 'POST', '/api/extras/event-rules/', {
      name: 'bad',
      object_types: ['ipam.prefix'],
      event_types: ['object_created', 'object_exploded'],
      action_type: 'webhook',
      action_object_type: 'extras.webhook',
      action_object_id: webhook.id,
    });
    expect(bad.body).toEqual({ event_types: { '1': ['"object_exploded" is not a valid choice.'] } });
    const dup = await api(nb, 'POST', '/api/extras/event-rules/', { ...rule, object_types: ['ipam.prefix'], action_type: 'webhook' });
    expect(dup.body.name).toEqual(['event rule with this name already exists.']);
    const missingHook = await api(nb, 'POST', '/api/extras/event-rules/', {
      name: 'dangling',
      object_types: ['ipam.prefix'],
      event_types: ['object_created'],
      action_type: 'webhook',
      action_object_type: 'extras.webhook',
      action_object_id: 999,
    });
    expect(missingHook.status).toBe(400);
    expect((await api(nb, 'DELETE', `/api/extras/webhooks/${webhook.id}/`)).status).toBe(204);
    expect((await api(nb, 'GET', `/api/extras/event-rules/${rule.id}/`)).status).toBe(404);
  });
});

describe('webhook deliveries', () => {
  test('X-Hook-Signature is the hex HMAC-SHA512 of the exact body bytes; 4.2 body has model/username/request_id', async () => {
    const nb = await standIn({ version: '4.2' });
    const receiver = await startReceiver();
    await subscribe(nb, receiver, 'top-secret');
    const created = await api(nb, 'POST', '/api/ipam/prefixes/', { prefix: '192.0.2.0/24', scope_type: 'dcim.site', scope_id: 2, role: 1 });
    await nb.flushDeliveries();
    expect(receiver.received).toHaveLength(1);
    const [hit] = receiver.received;
    expect(hit.headers['x-hook-signature']).toBe(createHmac('sha512', 'top-secret').update(hit.raw).digest('hex'));
    expect(hit.headers['content-type']).toBe('application/json');
    const body = hit.json;
    expect(Object.keys(body)).toEqual(['event', 'timestamp', 'model', 'username', 'request_id', 'data', 'snapshots']);
    expect(body).toMatchObject({ event: 'created', model: 'prefix', username: 'admin' });
    expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$/);
    expect(body.data).toMatchObject({ id: created.body.id, url: `/api/ipam/prefixes/${created.body.id}/`, scope: { url: '/api/dcim/sites/2/' } });
    expect(body.snapshots.prechange).toBeNull();
    expect(body.snapshots.postchange).toMatchObject({ prefix: '192.0.2.0/24', role: 1, scope_type: 57, scope_id: 2, _site: 2, _location: null });
    // NetBox (Python) writes JSON with ", " and ": " separators.
    expect(hit.raw.toString('utf8').startsWith('{"event": "created", "timestamp": "')).toBe(true);
  });

  test('no signature without a secret; 4.5 drops model, 4.7 drops username/request_id and has request', async () => {
    const shapes: Record<string, string[]> = {};
    for (const version of ['4.4', '4.5', '4.6', '4.7']) {
      const nb = await standIn({ version, dataset: loadDemoDataset('4.2') });
      const receiver = await startReceiver();
      await subscribe(nb, receiver, '');
      nb.updatePrefix(7, { description: 'edited' });
      await nb.flushDeliveries();
      const [hit] = receiver.received;
      expect(hit.headers).not.toHaveProperty('x-hook-signature');
      shapes[version] = Object.keys(hit.json);
      expect(hit.json.snapshots.prechange.description).toBe('');
      expect(hit.json.snapshots.postchange.description).toBe('edited');
      if (hit.json.request) expect(hit.json.request).toMatchObject({ method: 'PATCH', path: '/api/ipam/prefixes/7/', user: 'admin' });
    }
    expect(shapes['4.4']).toEqual(['event', 'timestamp', 'object_type', 'model', 'username', 'request_id', 'data', 'snapshots']);
    expect(shapes['4.5']).toEqual(['event', 'timestamp', 'object_type', 'username', 'request_id', 'data', 'snapshots']);
    expect(shapes['4.6']).toEqual(['event', 'timestamp', 'object_type', 'username', 'request_id', 'data', 'request', 'snapshots']);
    expect(shapes['4.7']).toEqual(['event', 'timestamp', 'object_type', 'data', 'request', 'snapshots']);
  });

  test('4.1 delete sends the object as it was, postchange null, and a flat 4.1 snapshot with `site`', async () => {
    const nb = await standIn({ version: '4.1' });
    const receiver = await startReceiver();
    await subscribe(nb, receiver);
    expect((await api(nb, 'DELETE', '/api/ipam/prefixes/7/')).status).toBe(204);
    await nb.flushDeliveries();
    const body = receiver.received[0].json;
    expect(body).toMatchObject({ event: 'deleted', model: 'prefix', data: { id: 7, site: { id: 2 } }, snapshots: { postchange: null } });
    expect(body.snapshots.prechange).toMatchObject({ prefix: '10.112.128.0/28', site: 2, role: 4 });
    expect(body.snapshots.prechange).not.toHaveProperty('_site');
  });

  test('manual mode: pending list, seeded shuffle, duplicates, drop and redeliver', async () => {
    const nb = await standIn({ version: '4.2', deliveries: 'manual' });
    const receiver = await startReceiver();
    await subscribe(nb, receiver);
    const ids = nb.dataset.prefixes.all().slice(0, 5).map((p) => p.id);
    for (const id of ids) nb.updatePrefix(id, { description: `d${id}` });
    const pending = nb.pendingDeliveries();
    expect(pending.map((d) => [d.event, d.objectType, d.objectId])).toEqual(ids.map((id) => ['updated', 'ipam.prefix', id]));
    expect(receiver.received).toHaveLength(0);

    nb.dropDelivery(pending[4].id);
    const records = await nb.deliver(undefined, { shuffle: 3, duplicate: true });
    expect(records).toHaveLength(8);
    expect(records.every((r) => r.ok && r.status === 200)).toBe(true);
    const order = receiver.received.map((r) => r.json.data.id as number);
    const inOrder = ids.slice(0, 4).flatMap((id) => [id, id]);
    expect([...order].sort((a, b) => a - b)).toEqual(inOrder);
    expect(order).not.toEqual(inOrder);
    expect(nb.pendingDeliveries()).toHaveLength(0);

    // The same seed gives the same order.
    const nb2 = await standIn({ version: '4.2', deliveries: 'manual' });
    const receiver2 = await startReceiver();
    await subscribe(nb2, receiver2);
    for (const id of ids.slice(0, 4)) nb2.updatePrefix(id, { description: `d${id}` });
    await nb2.deliver(undefined, { shuffle: 3, duplicate: true });
    expect(receiver2.received.map((r) => r.json.data.id)).toEqual(order);

    const again = await nb.redeliver(records[0].recordId);
    expect(again.kind).toBe('redelivery');
    expect(receiver.received.at(-1)!.raw.equals(receiver.received[0].raw)).toBe(true);
    expect(nb.deliveryLog.filter((r) => r.kind === 'dropped')).toHaveLength(1);
  });

  test('failed deliveries are logged and not retried by default; retryMax re-sends', async () => {
    const nb = await standIn({ version: '4.2' });
    const receiver = await startReceiver();
    receiver.status = 500;
    await subscribe(nb, receiver);
    nb.updatePrefix(1, { description: 'x' });
    await nb.flushDeliveries();
    expect(receiver.received).toHaveLength(1);
    expect(nb.deliveryLog.at(-1)).toMatchObject({ ok: false, status: 500 });

    const retrying = await standIn({ version: '4.2', deliveryRetryMax: 2 });
    const r2 = await startReceiver();
    r2.status = 503;
    await subscribe(retrying, r2);
    retrying.updatePrefix(1, { description: 'x' });
    await retrying.flushDeliveries();
    expect(r2.received).toHaveLength(3);
  });

  test('several workers deliver everything; flushDeliveries waits for all', async () => {
    const nb = await standIn({ version: '4.2', deliveryConcurrency: 4, deliveryJitterMs: 20, seed: 5 });
    const receiver = await startReceiver();
    await subscribe(nb, receiver);
    const ids = nb.dataset.prefixes.all().slice(0, 20).map((p) => p.id);
    for (const id of ids) nb.updatePrefix(id, { description: `c${id}` });
    await nb.flushDeliveries();
    expect(receiver.received.map((r) => r.json.data.id).sort((a: number, b: number) => a - b)).toEqual(ids);
  });
});

describe('faults and request log', () => {
  test('failNext and delayNext affect only matching paths; the log has no auth headers', async () => {
    const nb = await standIn({ version: '4.2' });
    nb.faults.failNext(1, 503, '/api/ipam/prefixes/');
    expect((await api(nb, 'GET', '/api/dcim/sites/')).status).toBe(200);
    expect((await api(nb, 'GET', '/api/ipam/prefixes/')).status).toBe(503);
    expect((await api(nb, 'GET', '/api/ipam/prefixes/')).status).toBe(200);
    nb.faults.delayNext(200, 1);
    const started = Date.now();
    await api(nb, 'GET', '/api/status/');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(nb.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/api/dcim/sites/', 200],
      ['GET', '/api/ipam/prefixes/', 503],
      ['GET', '/api/ipam/prefixes/', 200],
      ['GET', '/api/status/', 200],
    ]);
    expect(JSON.stringify(nb.requests)).not.toContain(nb.token);
    expect((await api(nb, 'GET', '/api/ipam/prefixes')).status).toBe(301);
  });
});
