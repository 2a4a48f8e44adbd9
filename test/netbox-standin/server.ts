/**
 * The NetBox stand-in: an HTTP server that behaves like the NetBox release it claims to be, plus a
 * programmatic API for tests (mutate data as a NetBox user would, control webhook delivery, inject
 * faults, inspect requests). Test fixture only; never shipped.
 *
 *   const nb = await startNetBoxStandIn({ version: '4.2', dataset: loadDemoDataset('4.2') });
 *   await axios.get(`${nb.url}/api/ipam/prefixes/`, { headers: { Authorization: `Token ${nb.token}` } });
 *   nb.updatePrefix(7, { description: 'moved' });   // emits the same webhooks as a REST PATCH
 *   await nb.flushDeliveries();
 *   await nb.close();
 */
import { randomUUID } from 'node:crypto';
import Fastify, { FastifyInstance, FastifyReply } from 'fastify';
import { checkTokenSpecs, defaultTokens, isV2Token, TokenSpec } from './auth';
import { DeliverOptions, DeliveryMode, DeliveryQueue, DeliveryRecord, PendingDelivery } from './deliveries';
import { ExtrasStore } from './extras';
import { PrefixOrderings } from './listing';
import { CustomFieldRecord, EventRuleRecord, NetBoxDataset, PrefixRecord, RoleRecord, SiteRecord, WebhookRecord } from './model';
import { Actor, NetBoxOperations, PrefixInput, RoleInput, SiteInput } from './operations';
import { registerRoutes } from './routes';
import { ApiError, JsonObject, prefixRest, RenderContext, renderContext } from './shapes';
import { NetBoxVersion } from './version';

export interface StandInOptions {
  /** '4.1', '4.2', … '4.7' (any 4.x), or a full release such as '4.2.8'. */
  version: string;
  dataset: NetBoxDataset;
  /** Default: one v1 40-hex key, plus a v2 `nbt_` token from 4.5; all with every permission. */
  tokens?: TokenSpec[];
  /** NetBox MAX_PAGE_SIZE (default 1000). */
  maxPageSize?: number;
  /** Host:port used in absolute next/previous/url links instead of the request's Host header. */
  advertisedHost?: string;
  port?: number;
  host?: string;
  /** Webhook delivery: sent in the background ('immediate', default) or held for the test ('manual'). */
  deliveries?: DeliveryMode;
  /** RQ workers sending webhooks concurrently (default 1; more → out-of-order arrival). */
  deliveryConcurrency?: number;
  /** NetBox RQ_RETRY_MAX (default 0: a failed webhook is not retried). */
  deliveryRetryMax?: number;
  /** Random delay up to this many ms before each immediate send (seeded), to provoke reordering. */
  deliveryJitterMs?: number;
  seed?: number;
  /** Clock for created/last_updated and webhook timestamps (default: real time). */
  clock?: () => Date;
  /** Extra prefix statuses an admin added through FIELD_CHOICES (REST validation only). */
  extraPrefixStatuses?: string[];
  /** Username for programmatic mutations (default 'admin'). */
  username?: string;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  /** Raw query string without '?'. */
  query: string;
  status: number;
  at: Date;
  durationMs: number;
}

export interface FaultControls {
  /** The next `count` API requests (optionally only under `pathPrefix`) fail with `status`. */
  failNext(count: number, status?: number, pathPrefix?: string): void;
  /** The next `count` API requests (optionally only under `pathPrefix`) are delayed by `ms`. */
  delayNext(ms: number, count: number, pathPrefix?: string): void;
  clear(): void;
}

export interface NetBoxStandIn {
  /** e.g. `http://127.0.0.1:43125` (no trailing slash). */
  url: string;
  /** The `major.minor` served (also the API-Version header). */
  version: string;
  /** Full release, e.g. '4.2.9' (`netbox-version` in /api/status/). */
  fullVersion: string;
  /** The first token (v1 40-hex key). */
  token: string;
  /** The v2 `nbt_` token, when the version has them (4.5+) and one was configured. */
  v2Token: string | null;
  tokens: TokenSpec[];
  dataset: NetBoxDataset;
  requests: RequestLogEntry[];
  faults: FaultControls;
  close(): Promise<void>;

  // Mutations as a NetBox user (UI/API) would make them; each emits webhooks like a REST call.
  createPrefix(input: PrefixInput): PrefixRecord;
  updatePrefix(id: number, patch: PrefixInput): PrefixRecord;
  deletePrefix(id: number): void;
  createSite(input: SiteInput): SiteRecord;
  updateSite(id: number, patch: SiteInput): SiteRecord;
  deleteSite(id: number): void;
  createRole(input: RoleInput): RoleRecord;
  deleteRole(id: number): void;
  /** Same bodies as POST /api/extras/...; no events. */
  createWebhook(body: Record<string, unknown>): WebhookRecord;
  createEventRule(body: Record<string, unknown>): EventRuleRecord;
  createCustomField(body: Record<string, unknown>): CustomFieldRecord;
  /** REST representation of a prefix as this version renders it. */
  renderPrefix(id: number): JsonObject;

  // Webhook delivery control.
  pendingDeliveries(): PendingDelivery[];
  deliver(ids?: number[], opts?: DeliverOptions): Promise<DeliveryRecord[]>;
  dropDelivery(id: number): void;
  redeliver(recordId: number): Promise<DeliveryRecord>;
  deliveryLog: DeliveryRecord[];
  flushDeliveries(): Promise<void>;
}

interface FaultRule {
  kind: 'fail' | 'delay';
  remaining: number;
  status: number;
  ms: number;
  pathPrefix?: string;
}

export async function startNetBoxStandIn(opts: StandInOptions): Promise<NetBoxStandIn> {
  const version = NetBoxVersion.parse(opts.version);
  const dataset = opts.dataset;
  const tokens = opts.tokens ?? defaultTokens(version);
  if (!tokens.length) throw new Error('startNetBoxStandIn: tokens must not be empty (every endpoint but /api/status/ needs one)');
  checkTokenSpecs(version, tokens);
  const clock = opts.clock ?? (() => new Date());
  const concurrency = opts.deliveryConcurrency ?? 1;

  const deliveries = new DeliveryQueue({
    version,
    dataset,
    mode: opts.deliveries ?? 'immediate',
    concurrency,
    retryMax: opts.deliveryRetryMax ?? 0,
    jitterMs: opts.deliveryJitterMs ?? 0,
    jitterSeed: opts.seed ?? 1,
  });
  const operations = new NetBoxOperations({ version, dataset, deliveries, clock });
  const extras = new ExtrasStore({ version, dataset, operations, clock });

  const requests: RequestLogEntry[] = [];
  const faultRules: FaultRule[] = [];
  const app: FastifyInstance = Fastify({ logger: false, genReqId: () => randomUUID(), bodyLimit: 10 * 1024 * 1024 });

  // DRF's JSONParser: an empty body is {} and a malformed one is a 400 with `detail`.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      const err = new ApiError(400, { detail: `JSON parse error - ${(e as Error).message}` });
      done(err, undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    (req as { startedAt?: number }).startedAt = performance.now();
    reply.header('API-Version', version.apiVersion);
    const path = req.url.split('?')[0];
    for (const kind of ['delay', 'fail'] as const) {
      const rule = faultRules.find((r) => r.kind === kind && r.remaining > 0 && (!r.pathPrefix || path.startsWith(r.pathPrefix)));
      if (!rule) continue;
      rule.remaining--;
      if (kind === 'delay') await new Promise((resolve) => setTimeout(resolve, rule.ms));
      else return sendFault(reply, rule.status, version);
    }
    // Django's APPEND_SLASH: NetBox API paths end in '/'.
    if (path.startsWith('/api') && !path.endsWith('/')) {
      const query = req.url.slice(path.length);
      return reply.code(301).header('Location', `${path}/${query}`).send();
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).type('application/json').send(JSON.stringify(err.body));
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.code(status).type('application/json').send(JSON.stringify({ detail: err.message }));
    return reply.code(500).type('application/json').send(JSON.stringify(serverErrorBody(err, version)));
  });

  app.setNotFoundHandler((_req, reply) => reply.code(404).type('application/json').send(JSON.stringify({ detail: 'Not found.' })));

  app.addHook('onResponse', async (req, reply) => {
    const [path, query = ''] = req.url.split('?', 2);
    const started = (req as { startedAt?: number }).startedAt ?? performance.now();
    requests.push({ method: req.method, path, query, status: reply.statusCode, at: new Date(), durationMs: performance.now() - started });
  });

  registerRoutes(app, {
    version,
    dataset,
    tokens,
    maxPageSize: opts.maxPageSize ?? 1000,
    advertisedHost: opts.advertisedHost,
    operations,
    extras,
    orderings: new PrefixOrderings(dataset),
    extraPrefixStatuses: opts.extraPrefixStatuses ?? [],
    rqWorkers: concurrency,
  });

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const url = `http://${host}:${port}`;

  const username = opts.username ?? 'admin';
  /** Programmatic edits look like the equivalent REST call made by `username`. */
  const actor = (method: string, path: string): Actor => ({ username, method, path });
  const restCtx = (): RenderContext => renderContext(version, dataset, url);

  return {
    url,
    version: version.apiVersion,
    fullVersion: version.full,
    token: tokens.find((t) => !isV2Token(t.token))?.token ?? tokens[0].token,
    v2Token: tokens.find((t) => isV2Token(t.token))?.token ?? null,
    tokens,
    dataset,
    requests,
    faults: {
      failNext: (count, status = 500, pathPrefix) => faultRules.push({ kind: 'fail', remaining: count, status, ms: 0, pathPrefix }),
      delayNext: (ms, count, pathPrefix) => faultRules.push({ kind: 'delay', remaining: count, status: 0, ms, pathPrefix }),
      clear: () => void faultRules.splice(0),
    },
    async close() {
      deliveries.close();
      await app.close();
    },

    createPrefix: (input) => operations.createPrefix(input, actor('POST', '/api/ipam/prefixes/')),
    updatePrefix: (id, patch) => operations.updatePrefix(id, patch, actor('PATCH', `/api/ipam/prefixes/${id}/`)),
    deletePrefix: (id) => operations.deletePrefix(id, actor('DELETE', `/api/ipam/prefixes/${id}/`)),
    createSite: (input) => operations.createSite(input, actor('POST', '/api/dcim/sites/')),
    updateSite: (id, patch) => operations.updateSite(id, patch, actor('PATCH', `/api/dcim/sites/${id}/`)),
    deleteSite: (id) => operations.deleteSite(id, actor('DELETE', `/api/dcim/sites/${id}/`)),
    createRole: (input) => operations.createRole(input, actor('POST', '/api/ipam/roles/')),
    deleteRole: (id) => operations.deleteRole(id, actor('DELETE', `/api/ipam/roles/${id}/`)),
    createWebhook: (body) => extras.saveWebhook(body, null, false),
    createEventRule: (body) => extras.saveEventRule(body, null, false),
    createCustomField: (body) => extras.saveCustomField(body, null, false),
    renderPrefix: (id) => {
      const row = dataset.prefixes.get(id);
      if (!row) throw new Error(`no prefix ${id} in the stand-in's dataset`);
      return prefixRest(restCtx(), row);
    },

    pendingDeliveries: () => deliveries.pending(),
    deliver: (ids, deliverOpts) => deliveries.deliver(ids, deliverOpts),
    dropDelivery: (id) => deliveries.drop(id),
    redeliver: (recordId) => deliveries.redeliver(recordId),
    deliveryLog: deliveries.log,
    flushDeliveries: () => deliveries.flush(),
  };
}

/** NetBox's REST 500 body (netbox/netbox/middleware.py / api exception handler); proxies answer 502–504 in HTML. */
function serverErrorBody(err: Error, version: NetBoxVersion): JsonObject {
  return {
    error: err.message,
    exception: err.name,
    netbox_version: version.full,
    python_version: '3.12.3',
  };
}

function sendFault(reply: FastifyReply, status: number, version: NetBoxVersion) {
  if (status === 500) {
    return reply.code(500).type('application/json').send(JSON.stringify(serverErrorBody(new Error('Injected fault'), version)));
  }
  if (status >= 502 && status <= 504) {
    const reason = { 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }[status as 502 | 503 | 504];
    return reply.code(status).type('text/html').send(`<html><body><h1>${status} ${reason}</h1></body></html>`);
  }
  if (status === 429) return reply.code(429).type('application/json').send(JSON.stringify({ detail: 'Request was throttled.' }));
  return reply.code(status).type('application/json').send(JSON.stringify({ detail: `Injected fault (${status})` }));
}
