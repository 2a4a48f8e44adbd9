/**
 * Activity level: the NetBox client against the stand-in in each modelled version's shapes
 * (4.1 `site`, 4.2 `scope`, 4.5 v2 Bearer tokens and no `model`, 4.7), plus the faults NetBox and the
 * network produce.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NetBoxAuthError, NetBoxUnavailableError, NotANetBoxApiError, InvalidInputError } from '../activities/errors';
import { checkApiPath, NetBoxClient, normalizeBaseUrl } from '../activities/netbox/client';
import { loadDemoDataset } from './netbox-standin/demo-dump';
import { startNetBoxStandIn, type NetBoxStandIn } from './netbox-standin/server';

const opened: Array<{ close(): Promise<void> | void }> = [];
afterAll(async () => {
  for (const o of opened) await o.close();
});

async function standIn(options: Parameters<typeof startNetBoxStandIn>[0]): Promise<NetBoxStandIn> {
  const s = await startNetBoxStandIn(options);
  opened.push(s);
  return s;
}

async function walk(client: NetBoxClient, pageSize: number, roleIds: number[] = []) {
  const ids: number[] = [];
  let pages = 0;
  for (let afterId = 0, done = false; !done; pages++) {
    const page = await client.prefixesAfter(afterId, pageSize, roleIds);
    ids.push(...page.prefixes.map((p) => p.id));
    afterId = page.lastId;
    done = page.done;
  }
  return { ids, pages };
}

describe.each([
  ['4.1', '4.1', 'site'],
  ['4.2', '4.2', 'scope'],
  ['4.5', '4.2', 'scope'],
  ['4.7', '4.2', 'scope'],
] as const)('NetBox %s shapes (demo dump %s)', (version, dump, shape) => {
  let netbox: NetBoxStandIn;
  let client: NetBoxClient;
  const dataset = loadDemoDataset(dump);

  beforeAll(async () => {
    netbox = await standIn({ version, dataset, maxPageSize: 25, advertisedHost: 'wrong-host.invalid:1' });
    client = new NetBoxClient({ baseUrl: `${netbox.url}/api/`, token: netbox.token });
  });

  test('status tells the version and the prefix shape', async () => {
    const status = await client.status();
    expect(status.version.startsWith(version)).toBe(true);
    expect(status.apiVersion).toBe(version);
    expect(status.prefixShape).toBe(shape);
  });

  test('pages through every prefix exactly once although NetBox caps the page and advertises a wrong host', async () => {
    const { ids, pages } = await walk(client, 1000);
    const expected = dataset.prefixes.all().map((p) => p.id).sort((a, b) => a - b);
    expect(ids).toEqual(expected);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(expected.length / 25));
  });

  test('reads site-scoped prefixes with the site name, others as unscoped or another scope', async () => {
    const { ids } = await walk(client, 50);
    const prefixes = await client.prefixesById(ids);
    const bySite = prefixes.filter((p) => p.scope.kind === 'site');
    const siteNames = new Set(dataset.sites.all().map((s) => s.name));
    expect(bySite.length).toBeGreaterThan(0);
    for (const p of bySite) expect(siteNames.has((p.scope as { siteName: string }).siteName)).toBe(true);
    expect(prefixes.some((p) => p.scope.kind === 'none')).toBe(true);
  });

  test('applies the role filter on the server', async () => {
    const roleId = dataset.roles.all()[0].id;
    const { ids } = await walk(client, 1000, [roleId]);
    const expected = dataset.prefixes.all().filter((p) => p.roleId === roleId).map((p) => p.id).sort((a, b) => a - b);
    expect(ids).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });

  test('a prefix that no longer exists reads as null', async () => {
    expect(await client.prefix(999_999)).toBeNull();
  });
});

describe('tokens', () => {
  test('4.5+ accepts a v2 token sent as Bearer', async () => {
    const netbox = await standIn({ version: '4.5', dataset: loadDemoDataset('4.2') });
    const v2 = netbox.tokens.find((t) => t.token.startsWith('nbt_'))!;
    const client = new NetBoxClient({ baseUrl: netbox.url, token: v2.token });
    expect((await client.prefixesAfter(0, 5)).prefixes).toHaveLength(5);
  });

  test('a wrong token fails at once with a message that says what to fix and never shows the token', async () => {
    const netbox = await standIn({ version: '4.2', dataset: loadDemoDataset('4.2') });
    const token = 'f'.repeat(40);
    const client = new NetBoxClient({ baseUrl: netbox.url, token, instanceName: 'Default' });
    const err = await client.prefixesAfter(0, 5).catch((e: Error) => e);
    expect(err).toBeInstanceOf(NetBoxAuthError);
    expect((err as Error).message).toMatch(/rejected the API token \(403 Invalid token/);
    expect((err as Error).message).not.toContain(token);
    expect(netbox.requests.filter((r) => r.path.startsWith('/api/ipam/prefixes/'))).toHaveLength(1);
  });

  test('a v2 token on NetBox 4.1 is rejected as NetBox 4.1 would', async () => {
    const netbox = await standIn({ version: '4.1', dataset: loadDemoDataset('4.1') });
    const client = new NetBoxClient({ baseUrl: netbox.url, token: 'nbt_abcdefghijkl.' + 'a'.repeat(40) });
    await expect(client.checkToken()).rejects.toThrow(/v2 tokens start with nbt_ and need NetBox 4.5/);
  });

  test('a token without a permission gets a 403 message naming that permission', async () => {
    const token = 'a'.repeat(40);
    const netbox = await standIn({
      version: '4.2',
      dataset: loadDemoDataset('4.2'),
      tokens: [{ token, permissions: ['ipam.view_role', 'dcim.view_site'] }],
    });
    const client = new NetBoxClient({ baseUrl: netbox.url, token });
    await expect(client.prefixesAfter(0, 5)).rejects.toThrow(/lacks the permission 'ipam\.view_prefix'/);
    await expect(client.roles()).resolves.toHaveLength(5);
  });
});

describe('faults', () => {
  let netbox: NetBoxStandIn;
  beforeAll(async () => {
    netbox = await standIn({ version: '4.2', dataset: loadDemoDataset('4.2') });
  });

  test('500 then recovery: retried with backoff and succeeds', async () => {
    netbox.faults.failNext(2, 500, '/api/ipam/prefixes/');
    const client = new NetBoxClient({ baseUrl: netbox.url, token: netbox.token, backoffMs: 10 });
    expect((await client.prefixesAfter(0, 10)).prefixes).toHaveLength(10);
  });

  test('429 is retried too', async () => {
    netbox.faults.failNext(1, 429, '/api/ipam/prefixes/');
    const client = new NetBoxClient({ baseUrl: netbox.url, token: netbox.token, backoffMs: 10 });
    expect((await client.prefixesAfter(0, 10)).prefixes).toHaveLength(10);
  });

  test('a NetBox that keeps failing gives a retryable error after the attempts', async () => {
    netbox.faults.failNext(3, 503, '/api/ipam/prefixes/');
    const client = new NetBoxClient({ baseUrl: netbox.url, token: netbox.token, backoffMs: 10, maxAttempts: 3 });
    const err = await client.prefixesAfter(0, 10).catch((e: Error) => e);
    expect(err).toBeInstanceOf(NetBoxUnavailableError);
    expect((err as Error).message).toMatch(/answered 503 .* after 3 attempts/);
  });

  test('a request that hangs times out and is retried', async () => {
    netbox.faults.delayNext(1500, 1, '/api/ipam/prefixes/');
    const client = new NetBoxClient({ baseUrl: netbox.url, token: netbox.token, backoffMs: 10, timeoutMs: 300 });
    expect((await client.prefixesAfter(0, 10)).prefixes).toHaveLength(10);
  });

  test('nothing listening: a retryable connection error', async () => {
    const client = new NetBoxClient({ baseUrl: 'http://127.0.0.1:9', token: 'x'.repeat(40), backoffMs: 5, maxAttempts: 2 });
    await expect(client.status()).rejects.toBeInstanceOf(NetBoxUnavailableError);
  });

  test('a base URL that is not a NetBox API says so', async () => {
    const server = http.createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    opened.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    const client = new NetBoxClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'x'.repeat(40) });
    const err = await client.status().catch((e: Error) => e);
    expect(err).toBeInstanceOf(NotANetBoxApiError);
    expect((err as Error).message).toMatch(/does not look like a NetBox API/);
  });
});

describe('input checks', () => {
  test('base URLs are normalized and bad ones refused', () => {
    expect(normalizeBaseUrl('https://netbox.example.com/api/')).toBe('https://netbox.example.com');
    expect(normalizeBaseUrl('https://example.com/netbox/')).toBe('https://example.com/netbox');
    expect(() => normalizeBaseUrl('netbox.example.com')).toThrow(InvalidInputError);
    expect(() => normalizeBaseUrl('ftp://x')).toThrow(/http/);
    expect(() => normalizeBaseUrl('https://user:pw@x')).toThrow(/token field/);
  });

  test('API paths cannot leave the API', () => {
    expect(checkApiPath('/api/ipam/prefixes/')).toBe('/api/ipam/prefixes/');
    for (const bad of ['/api/../admin/', 'http://evil/api/', '/admin/', 'api/x', '/api/./x', '/api/x?y=1']) {
      expect(() => checkApiPath(bad)).toThrow(InvalidInputError);
    }
  });
});

describe('hostile or misconfigured servers', () => {
  /** A server (or a proxy in front of NetBox) whose answer to every request is `handler`'s. */
  async function server(handler: http.RequestListener): Promise<string> {
    const s = http.createServer(handler);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    opened.push({ close: () => new Promise<void>((r) => s.close(() => r())) });
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }
  const TOKEN = 'c'.repeat(40);
  const V2 = 'nbt_abcdefghijkl.' + 'd'.repeat(40);

  test('an error body that echoes the Authorization header never puts the token into the error', async () => {
    const url = await server((req, res) => {
      const status = req.url?.startsWith('/api/status/') ? 401 : req.url?.startsWith('/api/ipam/roles/') ? 403 : 400;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: `bad credentials: ${req.headers.authorization}` }));
    });
    for (const token of [TOKEN, V2]) {
      const client = new NetBoxClient({ baseUrl: url, token, maxAttempts: 1 });
      for (const call of [() => client.status(), () => client.roles(), () => client.prefix(1)]) {
        const err = (await call().catch((e: Error) => e)) as Error;
        expect(err).toBeInstanceOf(Error);
        expect(err.message).not.toContain(token);
        expect(err.message).not.toContain('d'.repeat(40));
      }
      // The 401 and 400 messages quote NetBox's answer: the token in it is blanked, the rest kept.
      await expect(client.status()).rejects.toThrow(/401 bad credentials: (Token|Bearer) \[redacted\]/);
      await expect(client.prefix(1)).rejects.toThrow(/with 400: bad credentials: (Token|Bearer) \[redacted\]/);
    }
  });

  test('an answer far larger than any NetBox page is refused instead of filling the memory', async () => {
    const url = await server((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"netbox-version": "4.2.0", "x": "');
      const chunk = 'a'.repeat(1024 * 1024);
      let sent = 0;
      const more = () => {
        while (sent < 100 && res.write(chunk)) sent++;
        if (sent < 100) res.once('drain', more);
        else res.end('"}');
      };
      res.on('error', () => undefined);
      more();
    });
    const client = new NetBoxClient({ baseUrl: url, token: TOKEN, maxAttempts: 1, maxResponseBytes: 8 * 1024 * 1024 });
    const err = (await client.status().catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/answered with more than 8 MiB for GET \/api\/status\/.*NetBox/);
  });

  test('https:// to a plain-http server says to check the scheme', async () => {
    const url = await server((_, res) => res.writeHead(200).end('{}'));
    const client = new NetBoxClient({ baseUrl: url.replace('http:', 'https:'), token: TOKEN, maxAttempts: 1 });
    await expect(client.status()).rejects.toThrow(/TLS .*http:\/\/ instead of https:\/\//);
  });

  test('a server that answers 200 to everything is not taken for NetBox when the token is checked', async () => {
    const url = await server((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"netbox-version": "4.2.0"}'));
    const client = new NetBoxClient({ baseUrl: url, token: TOKEN, maxAttempts: 1 });
    await expect(client.status()).resolves.toMatchObject({ version: '4.2.0' });
    await expect(client.checkToken()).rejects.toThrow(/cannot read from \/api\/ipam\/prefixes\//);
  });

  test('a connection failure names what to check, not a retry the caller may not get', async () => {
    const client = new NetBoxClient({ baseUrl: 'http://127.0.0.1:9', token: TOKEN, backoffMs: 5, maxAttempts: 2 });
    await expect(client.status()).rejects.toThrow(/failed to connect \(ECONNREFUSED\).*check that NetBox runs at http:\/\/127\.0\.0\.1:9/);
  });
});
