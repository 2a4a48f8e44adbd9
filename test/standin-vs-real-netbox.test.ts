/**
 * The stand-in held against a real NetBox. Every exchange recorded from a real release (scripts/real-netbox/
 * record-fixtures.ts, run on NetBox's 4.2 demo dump migrated to that release) is replayed in order on the stand-in
 * serving the same dump in that release's shapes: the status, API-Version, the shape of every answer, error texts
 * and the values this project reads must agree. The webhook bodies that release sent (verify-webhooks.sh) must have
 * the shape the stand-in sends for the same change, verify with our receiver's signature check and parse with our
 * payload parser. A stand-in change that drifts from the real thing fails here.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseWebhookPayload } from '../activities/netbox/webhook-payload';
import { signatureMatches } from '../client/receiver';
import { loadDemoDataset, startNetBoxStandIn, type NetBoxStandIn } from './netbox-standin';
import { recordedExchanges, recordedVersions, recordedWebhookBodies, shapeOf, type RecordedExchange } from './support/recorded-netbox';
import { registerWebhook } from './support/realtime';

type Json = unknown;

/**
 * Where two shapes (from shapeOf) differ, as paths. An empty array matches any array: it carries no element shape
 * (the stand-in does not load the dump's tags, so sites' `tags` are empty there and filled in NetBox).
 */
function shapeDifferences(real: Json, standIn: Json, at = '$'): string[] {
  if (Array.isArray(real) && Array.isArray(standIn)) {
    if (real.length === 0 || standIn.length === 0) return [];
    if (real.length !== standIn.length) return [`${at}[]: element shapes ${JSON.stringify(real)} in the real NetBox, ${JSON.stringify(standIn)} in the stand-in`];
    return real.flatMap((r, i) => shapeDifferences(r, standIn[i], `${at}[${i}]`));
  }
  if (real && standIn && typeof real === 'object' && typeof standIn === 'object' && !Array.isArray(real) && !Array.isArray(standIn)) {
    const r = real as Record<string, Json>;
    const s = standIn as Record<string, Json>;
    const out: string[] = [];
    for (const k of new Set([...Object.keys(r), ...Object.keys(s)])) {
      if (!(k in s)) out.push(`${at}.${k}: only in the real NetBox`);
      else if (!(k in r)) out.push(`${at}.${k}: only in the stand-in`);
      else out.push(...shapeDifferences(r[k], s[k], `${at}.${k}`));
    }
    return out;
  }
  return JSON.stringify(real) === JSON.stringify(standIn) ? [] : [`${at}: ${JSON.stringify(real)} in the real NetBox, ${JSON.stringify(standIn)} in the stand-in`];
}

/** The values of a prefix this project reads. */
function prefixFacts(p: Record<string, any>) {
  return {
    id: p.id,
    prefix: p.prefix,
    description: p.description,
    scope_type: p.scope_type,
    scope_id: p.scope_id,
    scope: p.scope?.name ?? null,
    role: p.role?.id ?? null,
    vrf: p.vrf?.id ?? null,
    status: p.status?.value,
  };
}

/** A page's paging facts, with `next`/`previous` stripped of their host (each server names its own). */
function pageFacts(page: Record<string, any>) {
  const local = (u: string | null) => (u === null ? null : new URL(u).pathname + new URL(u).search);
  return { count: page.count, ids: page.results.map((r: { id: number }) => r.id), next: local(page.next), previous: local(page.previous) };
}

for (const release of recordedVersions()) {
  const minor = release.split('.').slice(0, 2).join('.');

  describe(`the stand-in as NetBox ${minor} answers what a real NetBox ${release} answered`, () => {
    let nb: NetBoxStandIn;

    beforeAll(async () => {
      nb = await startNetBoxStandIn({ version: minor, dataset: loadDemoDataset('4.2') });
    });
    afterAll(async () => {
      await nb?.close();
    });

    async function replay(e: RecordedExchange): Promise<{ status: number; apiVersion: string | null; body: Json }> {
      const authorization = e.authorization?.replace('{v1}', nb.token).replace('{v2}', nb.v2Token ?? '');
      const res = await fetch(`${nb.url}${e.url}`, {
        method: e.method,
        headers: {
          Accept: 'application/json',
          ...(authorization ? { Authorization: authorization } : {}),
          ...(e.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: e.body !== undefined ? JSON.stringify(e.body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, apiVersion: res.headers.get('api-version'), body: text ? (JSON.parse(text) as Json) : null };
    }

    // In recorded order: later exchanges (delete what was created) depend on earlier ones.
    test.each(recordedExchanges(release).map((e) => [e.name, e] as const))('%s', async (_name, e) => {
      const got = await replay(e);
      expect({ status: got.status, apiVersion: got.apiVersion }).toEqual({ status: e.status, apiVersion: e.apiVersion });
      const real = e.response as Record<string, any> | null;
      const standIn = got.body as Record<string, any> | null;
      if (e.status >= 400) {
        // Error texts are what operators see quoted in our messages: word for word.
        expect(standIn).toEqual(real);
        return;
      }
      if (e.url.startsWith('/api/status/')) {
        // Installed apps and their versions belong to each installation; the keys and the release line do not.
        expect(Object.keys(standIn!).sort()).toEqual(Object.keys(real!).sort());
        expect(String(standIn!['netbox-version']).slice(0, minor.length)).toBe(minor);
        return;
      }
      expect(shapeDifferences(shapeOf(real), shapeOf(standIn))).toEqual([]);
      // Key order too: it is what NetBox's serializers write, and what a byte-level comparison would see.
      const first = (body: Record<string, any> | null) => (body && 'results' in body ? body.results[0] : body);
      if (first(real) && typeof first(real) === 'object') expect(Object.keys(first(standIn))).toEqual(Object.keys(first(real)));
      if (real && 'results' in real) {
        expect(pageFacts(standIn!)).toEqual(pageFacts(real));
        if (e.url.startsWith('/api/ipam/prefixes/') && !e.url.includes('brief=1')) {
          expect(standIn!.results.map(prefixFacts)).toEqual(real.results.map(prefixFacts));
        }
      } else if (real && 'prefix' in real) {
        expect(prefixFacts(standIn!)).toEqual(prefixFacts(real));
      }
    });
  });

  describe(`webhook bodies: the stand-in as NetBox ${minor} sends what a real NetBox ${release} sent`, () => {
    const recorded = recordedWebhookBodies(release);

    test('the recorded bodies verify with our signature check and parse with our payload parser', () => {
      expect(Object.keys(recorded).sort()).toEqual(['created', 'deleted', 'updated']);
      for (const [event, body] of Object.entries(recorded)) {
        // verify-webhooks.sh signed them with the test secret "test-secret"; the headers file keeps NetBox's signature.
        const headersFile = path.join(__dirname, 'fixtures', `real-netbox-${release}`, 'webhooks', `netbox-${release}-prefix-${event}.headers.json`);
        const signature = (JSON.parse(fs.readFileSync(headersFile, 'utf8')) as { headers: Record<string, string> }).headers['X-Hook-Signature'];
        expect(signatureMatches(Buffer.from(body, 'utf8'), 'test-secret', signature)).toBe(true);
        expect(parseWebhookPayload(JSON.parse(body))).toMatchObject({ objectType: 'prefix', objectId: JSON.parse(body).data.id, event });
      }
    });

    test('created, updated and deleted prefix bodies have the real key order and shape', async () => {
      const received: string[] = [];
      const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          received.push(body);
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const nb = await startNetBoxStandIn({ version: minor, dataset: loadDemoDataset('4.2') });
      try {
        await registerWebhook(nb, `http://127.0.0.1:${(server.address() as AddressInfo).port}/netbox-webhook`, 'test-secret');
        // The change verify-webhooks.sh made on the real NetBox: create on DM-NYC (site 1), edit, delete.
        const p = nb.createPrefix({ prefix: '198.51.100.0/24', siteId: 1, description: 'nbsync real-netbox webhook demo' });
        await nb.flushDeliveries();
        nb.updatePrefix(p.id, { description: 'nbsync real-netbox webhook demo (edited)', status: 'reserved' });
        await nb.flushDeliveries();
        nb.deletePrefix(p.id);
        await nb.flushDeliveries();
      } finally {
        await nb.close();
        await new Promise<void>((r) => server.close(() => r()));
      }
      const byEvent = Object.fromEntries(received.map((b) => [JSON.parse(b).event as string, JSON.parse(b) as Record<string, any>]));
      for (const [event, body] of Object.entries(recorded)) {
        const real = JSON.parse(body) as Record<string, any>;
        const standIn = byEvent[event];
        expect(Object.keys(standIn)).toEqual(Object.keys(real));
        expect(Object.keys(standIn.data)).toEqual(Object.keys(real.data));
        for (const when of ['prechange', 'postchange'] as const) {
          if (real.snapshots[when]) expect(Object.keys(standIn.snapshots[when] ?? {})).toEqual(Object.keys(real.snapshots[when]));
        }
        expect(shapeDifferences(shapeOf(real), shapeOf(standIn))).toEqual([]);
        expect(prefixFacts(standIn.data)).toEqual({ ...prefixFacts(real.data), id: standIn.data.id });
        // Python's str(datetime) with the UTC offset, as NetBox's RQ worker writes it.
        expect(standIn.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
        expect(real.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
      }
    });
  });
}
