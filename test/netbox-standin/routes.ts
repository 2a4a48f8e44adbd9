/**
 * The REST API: NetBox's URL layout under /api/, DRF-style auth → permission → handler order,
 * list/detail/create/update/delete for each resource, and NetBox's response codes
 * (201 on create, 204 on delete, 404 `{"detail": "No X matches the given query."}`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, Principal, requirePermission, TokenSpec } from './auth';
import { customFieldFilter, ExtrasStore } from './extras';
import { FilterSet, first, Page, PageRequest, paginate, paginateByCursor, parseQuery, PrefixOrderings, prefixFilters, Query } from './listing';
import { NetBoxDataset } from './model';
import { Actor, NetBoxOperations } from './operations';
import { parsePrefixBody, parseRoleBody, parseSiteBody, WriteMode } from './rest-inputs';
import {
  ApiError,
  customFieldRest,
  eventRuleRest,
  EXTRAS_BRIEF_FIELDS,
  GENERIC_BRIEF_FIELDS,
  Json,
  JsonObject,
  PREFIX_BRIEF_FIELDS,
  prefixRest,
  RenderContext,
  renderContext,
  roleRest,
  selectFields,
  siteRest,
  statusBody,
  webhookRest,
} from './shapes';
import { NetBoxVersion } from './version';

export interface ApiState {
  version: NetBoxVersion;
  dataset: NetBoxDataset;
  tokens: TokenSpec[];
  maxPageSize: number;
  advertisedHost?: string;
  operations: NetBoxOperations;
  extras: ExtrasStore;
  orderings: PrefixOrderings;
  extraPrefixStatuses: string[];
  rqWorkers: number;
}

interface RequestContext {
  req: FastifyRequest;
  principal: Principal;
  query: Query;
  origin: string;
  path: string;
  render: RenderContext;
  actor: Actor;
}

type Row = { id: number };

interface Resource<T extends Row> {
  path: string;
  /** Django permission prefix, e.g. `ipam` + `prefix` → `ipam.view_prefix`. */
  app: string;
  model: string;
  verboseName: string;
  briefFields: string[];
  get(id: number): T | undefined;
  list(ctx: RequestContext): Page<T>;
  render(rc: RenderContext, row: T): JsonObject;
  save?(ctx: RequestContext, body: unknown, existing: T | null, mode: WriteMode): T;
  remove?(ctx: RequestContext, row: T): void;
}

const PERMISSION_ACTION: Record<string, string> = { GET: 'view', HEAD: 'view', POST: 'add', PUT: 'change', PATCH: 'change', DELETE: 'delete' };

export function registerRoutes(app: FastifyInstance, state: ApiState): void {
  const origin = (req: FastifyRequest) => `http://${state.advertisedHost ?? req.headers.host ?? 'localhost'}`;

  /** Builds the per-request context after authentication (DRF: authenticate → check permissions → handler). */
  const contextFor = (req: FastifyRequest): RequestContext => {
    const principal = authenticate(state.version, state.tokens, req.headers.authorization);
    const [path, rawQuery = ''] = req.url.split('?', 2);
    const o = origin(req);
    return {
      req,
      principal,
      query: parseQuery(rawQuery),
      origin: o,
      path,
      render: renderContext(state.version, state.dataset, o),
      actor: { username: principal.username, method: req.method, path, requestId: req.id },
    };
  };

  const send = (reply: FastifyReply, status: number, body?: Json) => {
    reply.code(status);
    if (body === undefined) return reply.send();
    return reply.type('application/json').send(JSON.stringify(body));
  };

  const guarded =
    (handler: (req: FastifyRequest, reply: FastifyReply) => unknown) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        return await handler(req, reply);
      } catch (e) {
        if (e instanceof ApiError) {
          return send(reply, e.status, e.body);
        }
        throw e;
      }
    };

  // ---- Root, status, authentication check --------------------------------------------------------------

  app.get(
    '/api/status/',
    guarded((req, reply) => {
      // LOGIN_REQUIRED (the default since 4.0): status needs a token like everything else.
      authenticate(state.version, state.tokens, req.headers.authorization);
      return send(reply, 200, statusBody(state.version, state.rqWorkers));
    }),
  );

  app.get(
    '/api/',
    guarded((req, reply) => {
      const ctx = contextFor(req);
      const root: JsonObject = {};
      for (const a of ['circuits', 'core', 'dcim', 'extras', 'ipam', 'plugins', 'status', 'tenancy', 'users', 'virtualization', 'vpn', 'wireless']) {
        root[a] = `${ctx.origin}/api/${a}/`;
      }
      return send(reply, 200, root);
    }),
  );

  if (state.version.supportsV2Tokens) {
    app.get(
      '/api/authentication-check/',
      guarded((req, reply) => {
        const ctx = contextFor(req);
        const username = ctx.principal.username;
        return send(reply, 200, {
          id: 1,
          url: `${ctx.origin}/api/users/users/1/`,
          display_url: `${ctx.origin}/users/users/1/`,
          display: username,
          username,
          first_name: '',
          last_name: '',
          email: '',
          is_active: true,
          date_joined: '2024-01-01T00:00:00Z',
          last_login: null,
          groups: [],
          permissions: [],
        });
      }),
    );
  }

  // ---- Generic resource routes --------------------------------------------------------------------------

  const register = <T extends Row>(res: Resource<T>) => {
    const perm = (method: string) => `${res.app}.${PERMISSION_ACTION[method]}_${res.model}`;
    const fieldSelection = (query: Query): { keep: string[] | null; omit: string[] | null } => {
      const fields = first(query, 'fields');
      if (fields) return { keep: fields.split(',').map((f) => f.trim()), omit: null };
      const omit = state.version.supportsOmit ? first(query, 'omit') : undefined;
      if (omit) return { keep: null, omit: omit.split(',').map((f) => f.trim()) };
      // BaseViewSet: any non-empty `brief` value enables brief mode (even "false").
      if (first(query, 'brief')) return { keep: res.briefFields, omit: null };
      return { keep: null, omit: null };
    };
    const one = (ctx: RequestContext, row: T) => {
      const sel = fieldSelection(ctx.query);
      return selectFields(res.render(ctx.render, row), sel.keep, sel.omit);
    };
    const detail = (ctx: RequestContext, raw: string) => {
      const row = /^\d+$/.test(raw) ? res.get(Number(raw)) : undefined;
      if (!row) throw ApiError.notFound(res.verboseName);
      return row;
    };

    app.get(
      res.path,
      guarded((req, reply) => {
        const ctx = contextFor(req);
        requirePermission(ctx.principal, perm('GET'));
        const page = res.list(ctx);
        const sel = fieldSelection(ctx.query);
        return send(reply, 200, {
          count: page.count,
          next: page.next,
          previous: page.previous,
          results: page.results.map((row) => selectFields(res.render(ctx.render, row), sel.keep, sel.omit)),
        });
      }),
    );
    app.get(
      `${res.path}:id/`,
      guarded((req, reply) => {
        const ctx = contextFor(req);
        requirePermission(ctx.principal, perm('GET'));
        return send(reply, 200, one(ctx, detail(ctx, (req.params as { id: string }).id)));
      }),
    );
    if (res.save) {
      const save = res.save.bind(res);
      app.post(
        res.path,
        guarded((req, reply) => {
          const ctx = contextFor(req);
          requirePermission(ctx.principal, perm('POST'));
          if (Array.isArray(req.body)) throw new ApiError(400, { detail: 'The stand-in does not implement bulk creation; POST one object at a time.' });
          return send(reply, 201, res.render(ctx.render, save(ctx, req.body ?? {}, null, 'create')));
        }),
      );
      for (const method of ['PUT', 'PATCH'] as const) {
        app.route({
          method,
          url: `${res.path}:id/`,
          handler: guarded((req, reply) => {
            const ctx = contextFor(req);
            requirePermission(ctx.principal, perm(method));
            const row = detail(ctx, (req.params as { id: string }).id);
            return send(reply, 200, res.render(ctx.render, save(ctx, req.body ?? {}, row, method === 'PUT' ? 'put' : 'patch')));
          }),
        });
      }
    }
    if (res.remove) {
      const remove = res.remove.bind(res);
      app.delete(
        `${res.path}:id/`,
        guarded((req, reply) => {
          const ctx = contextFor(req);
          requirePermission(ctx.principal, perm('DELETE'));
          remove(ctx, detail(ctx, (req.params as { id: string }).id));
          return send(reply, 204);
        }),
      );
    }
  };

  const pageReq = (ctx: RequestContext): PageRequest => ({ origin: ctx.origin, path: ctx.path, query: ctx.query, maxPageSize: state.maxPageSize });
  const { dataset, operations, extras, version } = state;

  /** Lists ordered by a default comparator, with `ordering=id|-id|name|-name`. */
  const simpleList = <T extends Row & { name: string }>(
    ctx: RequestContext,
    rows: T[],
    defaultOrder: (a: T, b: T) => number,
    addFilters?: (f: FilterSet<T>) => void,
  ): Page<T> => {
    const f = new FilterSet<T>(ctx.query);
    f.ids((r) => r.id);
    f.exact('name', (r) => r.name);
    const q = first(ctx.query, 'q');
    if (q) f.add((r) => r.name.toLowerCase().includes(q.toLowerCase()));
    addFilters?.(f);
    const ordering = first(ctx.query, 'ordering');
    const cmp =
      ordering === 'id' ? (a: T, b: T) => a.id - b.id
      : ordering === '-id' ? (a: T, b: T) => b.id - a.id
      : ordering === 'name' ? (a: T, b: T) => a.name.localeCompare(b.name) || a.id - b.id
      : ordering === '-name' ? (a: T, b: T) => b.name.localeCompare(a.name) || b.id - a.id
      : defaultOrder;
    return paginate([...f.apply(rows)].sort(cmp), pageReq(ctx));
  };
  const byName = <T extends Row & { name: string }>(a: T, b: T) => a.name.localeCompare(b.name, 'en', { numeric: true }) || a.id - b.id;
  /** `cf_<name>=` filters for objects of this type. */
  const filterByCustomFields = <T extends { customFieldData: Record<string, unknown> }>(f: FilterSet<T>, objectType: string) => {
    const cf = customFieldFilter(dataset, objectType, f.query);
    if (cf) f.add((r) => cf(r.customFieldData));
  };

  // ---- IPAM prefixes --------------------------------------------------------------------------------------

  register({
    path: '/api/ipam/prefixes/',
    app: 'ipam',
    model: 'prefix',
    verboseName: 'Prefix',
    briefFields: PREFIX_BRIEF_FIELDS,
    get: (id) => dataset.prefixes.get(id),
    list: (ctx) => {
      const filters = prefixFilters(version, dataset, ctx.query);
      filterByCustomFields(filters, 'ipam.prefix');
      if (version.supportsCursorPaging && first(ctx.query, 'start') !== undefined) {
        return paginateByCursor(filters.apply(dataset.prefixes.all()), pageReq(ctx));
      }
      return paginate(filters.apply(state.orderings.sorted(first(ctx.query, 'ordering'))), pageReq(ctx));
    },
    render: prefixRest,
    save: (ctx, body, existing, mode) => {
      const input = parsePrefixBody(version, dataset, body, mode, existing, state.extraPrefixStatuses);
      return existing ? operations.updatePrefix(existing.id, input, ctx.actor) : operations.createPrefix(input, ctx.actor);
    },
    remove: (ctx, row) => operations.deletePrefix(row.id, ctx.actor),
  });

  // ---- DCIM sites ------------------------------------------------------------------------------------------

  register({
    path: '/api/dcim/sites/',
    app: 'dcim',
    model: 'site',
    verboseName: 'Site',
    briefFields: GENERIC_BRIEF_FIELDS,
    get: (id) => dataset.sites.get(id),
    list: (ctx) =>
      simpleList(ctx, dataset.sites.all(), byName, (f) => {
        f.exact('slug', (s) => s.slug);
        f.timestamps('last_updated', (s) => s.lastUpdated);
        filterByCustomFields(f, 'dcim.site');
      }),
    render: siteRest,
    save: (ctx, body, existing, mode) => {
      const input = parseSiteBody(body, mode);
      return existing ? operations.updateSite(existing.id, input, ctx.actor) : operations.createSite(input, ctx.actor);
    },
    remove: (ctx, row) => operations.deleteSite(row.id, ctx.actor),
  });

  // ---- IPAM roles (Role.Meta.ordering = weight, name) ---------------------------------------------------------

  register({
    path: '/api/ipam/roles/',
    app: 'ipam',
    model: 'role',
    verboseName: 'Role',
    briefFields: GENERIC_BRIEF_FIELDS,
    get: (id) => dataset.roles.get(id),
    list: (ctx) =>
      simpleList(ctx, dataset.roles.all(), (a, b) => a.weight - b.weight || byName(a, b), (f) => f.exact('slug', (r) => r.slug)),
    render: roleRest,
    save: (ctx, body, existing, mode) => {
      if (existing) throw new ApiError(405, { detail: `Method "${mode === 'put' ? 'PUT' : 'PATCH'}" not allowed on roles by the stand-in.` });
      return operations.createRole(parseRoleBody(body, mode), ctx.actor);
    },
    remove: (ctx, row) => operations.deleteRole(row.id, ctx.actor),
  });

  // ---- Extras: webhooks, event rules, custom fields (all ordered by name) ---------------------------------------

  register({
    path: '/api/extras/webhooks/',
    app: 'extras',
    model: 'webhook',
    verboseName: 'Webhook',
    briefFields: EXTRAS_BRIEF_FIELDS,
    get: (id) => dataset.webhooks.get(id),
    list: (ctx) =>
      simpleList(ctx, dataset.webhooks.all(), byName, (f) => {
        f.exact('payload_url', (w) => w.payloadUrl);
        f.exact('http_method', (w) => w.httpMethod);
        filterByCustomFields(f, 'extras.webhook');
      }),
    render: webhookRest,
    save: (_ctx, body, existing, mode) => extras.saveWebhook(body, existing, mode === 'patch'),
    remove: (_ctx, row) => extras.deleteWebhook(row.id),
  });

  register({
    path: '/api/extras/event-rules/',
    app: 'extras',
    model: 'eventrule',
    verboseName: 'EventRule',
    briefFields: EXTRAS_BRIEF_FIELDS,
    get: (id) => dataset.eventRules.get(id),
    list: (ctx) =>
      simpleList(ctx, dataset.eventRules.all(), byName, (f) => {
        const objectTypes = f.query.object_type ?? f.query.object_types;
        if (objectTypes) f.add((e) => e.objectTypes.some((t) => objectTypes.includes(t)));
        const actionObjectIds = f.numbers('action_object_id');
        if (actionObjectIds) f.add((e) => e.actionObjectId !== null && actionObjectIds.includes(e.actionObjectId));
        const enabled = first(f.query, 'enabled');
        if (enabled !== undefined) f.add((e) => e.enabled === ['true', 'True', '1'].includes(enabled));
        filterByCustomFields(f, 'extras.eventrule');
      }),
    render: eventRuleRest,
    save: (_ctx, body, existing, mode) => extras.saveEventRule(body, existing, mode === 'patch'),
    remove: (_ctx, row) => extras.deleteEventRule(row.id),
  });

  register({
    path: '/api/extras/custom-fields/',
    app: 'extras',
    model: 'customfield',
    verboseName: 'CustomField',
    briefFields: ['id', 'url', 'display', 'name', 'description'],
    get: (id) => dataset.customFields.get(id),
    list: (ctx) =>
      simpleList(
        ctx,
        dataset.customFields.all(),
        (a, b) => a.groupName.localeCompare(b.groupName) || a.weight - b.weight || byName(a, b),
        (f) => {
          f.exact('type', (cf) => cf.type);
          const objectTypes = f.query.object_type ?? f.query.object_types;
          if (objectTypes) f.add((cf) => cf.objectTypes.some((t) => objectTypes.includes(t)));
        },
      ),
    render: customFieldRest,
    save: (_ctx, body, existing, mode) => extras.saveCustomField(body, existing, mode === 'patch'),
    remove: (_ctx, row) => extras.deleteCustomField(row.id),
  });
}
