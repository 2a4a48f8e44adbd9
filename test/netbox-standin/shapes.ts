/**
 * Every NetBox wire shape the stand-in produces, per version, in one module: REST objects (full
 * and brief), change-log snapshots, the default webhook body, /api/status/, error bodies, and the
 * date and JSON encodings NetBox's Python stack uses.
 *
 * Field lists follow NetBox's serializers (netbox/ipam/api/serializers_/ip.py, roles.py,
 * netbox/dcim/api/serializers_/sites.py, netbox/extras/api/serializers_/events.py,
 * customfields.py) and netbox-api.md. Key order follows each serializer's Meta.fields.
 */
import {
  CustomFieldRecord,
  EventRuleRecord,
  LocationRecord,
  NetBoxDataset,
  PrefixRecord,
  RoleRecord,
  ScopeType,
  SiteRecord,
  TreeNodeRecord,
  WebhookRecord,
} from './model';
import { NetBoxVersion } from './version';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface RenderContext {
  version: NetBoxVersion;
  dataset: NetBoxDataset;
  /**
   * `http://host:port` for REST responses (DRF builds absolute URLs from the request), or '' for
   * webhook `data`, which NetBox serializes with no request and therefore relative URLs.
   */
  base: string;
  /**
   * Nested briefs already rendered for this context (many prefixes share a site, role or VRF).
   * Only valid while the dataset is unchanged; see `renderContext()`.
   */
  briefs?: Map<string, Json>;
}

const briefCaches = new WeakMap<NetBoxDataset, { key: string; briefs: Map<string, Json> }>();

/**
 * A render context whose nested-brief cache is shared across requests until any table changes
 * (brief shapes include counts such as a VRF's prefix_count, so every write invalidates).
 */
export function renderContext(version: NetBoxVersion, dataset: NetBoxDataset, base: string): RenderContext {
  const d = dataset;
  const key = [
    version.full,
    base,
    d.prefixRevision,
    d.sites.revision,
    d.roles.revision,
    d.vrfs.revision,
    d.tenants.revision,
    d.vlans.revision,
    d.locations.revision,
    d.regions.revision,
    d.siteGroups.revision,
    d.webhooks.revision,
  ].join('|');
  let cache = briefCaches.get(dataset);
  if (!cache || cache.key !== key) {
    cache = { key, briefs: new Map() };
    briefCaches.set(dataset, cache);
  }
  return { version, dataset, base, briefs: cache.briefs };
}

function cachedBrief(ctx: RenderContext, key: string, build: () => Json): Json {
  if (!ctx.briefs) return build();
  let value = ctx.briefs.get(key);
  if (value === undefined) {
    value = build();
    ctx.briefs.set(key, value);
  }
  return value;
}

// ---- Encodings -------------------------------------------------------------------------------------

function isoParts(d: Date): { seconds: string; micros: string } {
  const iso = d.toISOString(); // 2020-12-30T20:00:02.450Z
  const ms = d.getUTCMilliseconds();
  return { seconds: iso.slice(0, 19), micros: ms ? `${String(ms).padStart(3, '0')}000` : '' };
}

/** DRF DateTimeField: `2020-12-30T20:00:02.450000Z` (microseconds only when non-zero). */
export function restDateTime(d: Date): string {
  const { seconds, micros } = isoParts(d);
  return `${seconds}${micros ? `.${micros}` : ''}Z`;
}

/** Django's JSON encoder (change-log snapshots): milliseconds, `Z`. */
export function snapshotDateTime(d: Date): string {
  const { seconds, micros } = isoParts(d);
  return `${seconds}${micros ? `.${micros.slice(0, 3)}` : ''}Z`;
}

/** `timezone.now().isoformat()`, the webhook `timestamp`: `2026-12-03T19:22:56.228412+00:00` (recorded from 4.7.3). */
export function pythonTimestamp(d: Date): string {
  const { seconds, micros } = isoParts(d);
  return `${seconds}${micros ? `.${micros}` : ''}+00:00`;
}

/**
 * `json.dumps(value)` as Python writes it (separators ', ' and ': ', ensure_ascii). NetBox renders
 * the default webhook body this way, and the signature covers these exact bytes.
 */
export function pythonJsonDumps(value: Json): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'NaN';
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${pythonString(k)}: ${pythonJsonDumps(v)}`)
    .join(', ')}}`;
}

function pythonString(s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// ---- Choice labels ---------------------------------------------------------------------------------

const PREFIX_STATUS: Record<string, string> = {
  container: 'Container',
  active: 'Active',
  reserved: 'Reserved',
  deprecated: 'Deprecated',
};
const SITE_STATUS: Record<string, string> = {
  planned: 'Planned',
  staging: 'Staging',
  active: 'Active',
  decommissioning: 'Decommissioning',
  retired: 'Retired',
};
export const CUSTOM_FIELD_TYPES: Record<string, string> = {
  text: 'Text',
  longtext: 'Text (long)',
  integer: 'Integer',
  decimal: 'Decimal',
  boolean: 'Boolean (true/false)',
  date: 'Date',
  datetime: 'Date & time',
  url: 'URL',
  json: 'JSON',
  select: 'Selection',
  multiselect: 'Multiple selection',
  object: 'Object',
  multiobject: 'Multiple objects',
};
const FILTER_LOGIC: Record<string, string> = { disabled: 'Disabled', loose: 'Loose', exact: 'Exact' };
const UI_VISIBLE: Record<string, string> = { always: 'Always', 'if-set': 'If set', hidden: 'Hidden' };
const UI_EDITABLE: Record<string, string> = { yes: 'Yes', no: 'No', hidden: 'Hidden' };

/** Admins can add prefix statuses (FIELD_CHOICES); an unknown value is shown with itself as label. */
function choice(labels: Record<string, string>, value: string): JsonObject {
  return { value, label: labels[value] ?? value };
}

// ---- URLs ------------------------------------------------------------------------------------------

const API_PATH: Record<string, string> = {
  'dcim.site': 'dcim/sites',
  'dcim.location': 'dcim/locations',
  'dcim.region': 'dcim/regions',
  'dcim.sitegroup': 'dcim/site-groups',
  'ipam.prefix': 'ipam/prefixes',
  'ipam.role': 'ipam/roles',
  'ipam.vrf': 'ipam/vrfs',
  'ipam.vlan': 'ipam/vlans',
  'tenancy.tenant': 'tenancy/tenants',
  'extras.webhook': 'extras/webhooks',
  'extras.eventrule': 'extras/event-rules',
  'extras.customfield': 'extras/custom-fields',
};

export function apiUrl(ctx: RenderContext, objectType: string, id: number): string {
  return `${ctx.base}/api/${API_PATH[objectType]}/${id}/`;
}

function displayUrl(ctx: RenderContext, objectType: string, id: number): string {
  return `${ctx.base}/${API_PATH[objectType]}/${id}/`;
}

function head(ctx: RenderContext, objectType: string, id: number, display: string): JsonObject {
  return { id, url: apiUrl(ctx, objectType, id), display_url: displayUrl(ctx, objectType, id), display };
}

function briefHead(ctx: RenderContext, objectType: string, id: number, display: string): JsonObject {
  return { id, url: apiUrl(ctx, objectType, id), display };
}

function tagList(tags: string[]): Json {
  return tags.map((name) => ({ name, slug: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'), display: name, color: '9e9e9e' }));
}

function customFieldValues(ctx: RenderContext, objectType: string, data: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  if (ctx.dataset.customFieldsFor(objectType).length === 0) return out;
  for (const cf of ctx.dataset.customFieldsFor(objectType)) out[cf.name] = (data[cf.name] ?? null) as Json;
  return out;
}

// ---- Brief (nested) shapes -------------------------------------------------------------------------

export function siteBrief(ctx: RenderContext, id: number | null): Json {
  return cachedBrief(ctx, `site:${id}`, () => {
    const s = id === null ? undefined : ctx.dataset.sites.get(id);
    if (!s) return null;
    return { ...briefHead(ctx, 'dcim.site', s.id, s.name), name: s.name, slug: s.slug, description: s.description };
  });
}

function treeBrief(ctx: RenderContext, objectType: 'dcim.region' | 'dcim.sitegroup', node: TreeNodeRecord | undefined): Json {
  return cachedBrief(ctx, `${objectType}:${node?.id}`, () => {
    if (!node) return null;
    return {
      ...briefHead(ctx, objectType, node.id, node.name),
      name: node.name,
      slug: node.slug,
      description: node.description,
      site_count: ctx.dataset.siteCountUnder(objectType === 'dcim.region' ? 'region' : 'sitegroup', node.id),
      _depth: node.level,
    };
  });
}

function locationBrief(ctx: RenderContext, loc: LocationRecord | undefined): Json {
  return cachedBrief(ctx, `location:${loc?.id}`, () => {
    if (!loc) return null;
    return {
      ...briefHead(ctx, 'dcim.location', loc.id, loc.name),
      name: loc.name,
      slug: loc.slug,
      description: loc.description,
      rack_count: ctx.dataset.rackCountByLocation.get(loc.id) ?? 0,
      _depth: loc.level,
    };
  });
}

export function scopeBrief(ctx: RenderContext, type: ScopeType | null, id: number | null): Json {
  if (type === null || id === null) return null;
  switch (type) {
    case 'dcim.site':
      return siteBrief(ctx, id);
    case 'dcim.location':
      return locationBrief(ctx, ctx.dataset.locations.get(id));
    case 'dcim.region':
      return treeBrief(ctx, 'dcim.region', ctx.dataset.regions.get(id));
    case 'dcim.sitegroup':
      return treeBrief(ctx, 'dcim.sitegroup', ctx.dataset.siteGroups.get(id));
  }
}

export function roleBrief(ctx: RenderContext, id: number | null): Json {
  return cachedBrief(ctx, `role:${id}`, () => {
    const r = id === null ? undefined : ctx.dataset.roles.get(id);
    if (!r) return null;
    return { ...briefHead(ctx, 'ipam.role', r.id, r.name), name: r.name, slug: r.slug, description: r.description };
  });
}

function vrfBrief(ctx: RenderContext, id: number | null): Json {
  return cachedBrief(ctx, `vrf:${id}`, () => {
    const v = id === null ? undefined : ctx.dataset.vrfs.get(id);
    if (!v) return null;
    return {
      ...briefHead(ctx, 'ipam.vrf', v.id, v.name),
      name: v.name,
      rd: v.rd,
      description: v.description,
      prefix_count: ctx.dataset.prefixCountForVrf(v.id),
    };
  });
}

function tenantBrief(ctx: RenderContext, id: number | null): Json {
  return cachedBrief(ctx, `tenant:${id}`, () => {
    const t = id === null ? undefined : ctx.dataset.tenants.get(id);
    if (!t) return null;
    return { ...briefHead(ctx, 'tenancy.tenant', t.id, t.name), name: t.name, slug: t.slug, description: t.description };
  });
}

function vlanBrief(ctx: RenderContext, id: number | null): Json {
  return cachedBrief(ctx, `vlan:${id}`, () => {
    const v = id === null ? undefined : ctx.dataset.vlans.get(id);
    if (!v) return null;
    return { ...briefHead(ctx, 'ipam.vlan', v.id, `${v.name} (${v.vid})`), vid: v.vid, name: v.name, description: v.description };
  });
}

function webhookBrief(ctx: RenderContext, id: number | null): Json {
  return cachedBrief(ctx, `webhook:${id}`, () => {
    const w = id === null ? undefined : ctx.dataset.webhooks.get(id);
    if (!w) return null;
    return { ...briefHead(ctx, 'extras.webhook', w.id, w.name), name: w.name, description: w.description };
  });
}

// ---- Full REST shapes --------------------------------------------------------------------------------

export const PREFIX_BRIEF_FIELDS = ['id', 'url', 'display', 'family', 'prefix', 'description', '_depth'];
export const GENERIC_BRIEF_FIELDS = ['id', 'url', 'display', 'name', 'slug', 'description'];
export const EXTRAS_BRIEF_FIELDS = ['id', 'url', 'display', 'name', 'description'];

const FAMILY: Record<number, JsonObject> = { 4: { value: 4, label: 'IPv4' }, 6: { value: 6, label: 'IPv6' } };

/** A copy of `obj` with `key` inserted right after `after` (JSON key order is what NetBox's serializer writes). */
function withKeyAfter(obj: JsonObject, after: string, key: string, value: Json): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = v;
    if (k === after) out[key] = value;
  }
  return out;
}

/**
 * Built as one object literal per shape (no spreads or late property adds) because list pages
 * render up to MAX_PAGE_SIZE prefixes per request. `owner` (4.5+) sits between `description` and `comments`, as a
 * real 4.7.3 answers.
 */
export function prefixRest(ctx: RenderContext, p: PrefixRecord): JsonObject {
  const v = ctx.version;
  const url = apiUrl(ctx, 'ipam.prefix', p.id);
  const displayUrlValue = displayUrl(ctx, 'ipam.prefix', p.id);
  let out: JsonObject;
  if (v.prefixHasScope) {
    out = {
      id: p.id,
      url,
      display_url: displayUrlValue,
      display: p.prefix,
      family: FAMILY[p.network.family],
      prefix: p.prefix,
      vrf: vrfBrief(ctx, p.vrfId),
      scope_type: p.scopeType,
      scope_id: p.scopeId,
      scope: scopeBrief(ctx, p.scopeType, p.scopeId),
      tenant: tenantBrief(ctx, p.tenantId),
      vlan: vlanBrief(ctx, p.vlanId),
      status: choice(PREFIX_STATUS, p.status),
      role: roleBrief(ctx, p.roleId),
      is_pool: p.isPool,
      mark_utilized: p.markUtilized,
      description: p.description,
      comments: p.comments,
      tags: tagList(p.tags),
      custom_fields: customFieldValues(ctx, 'ipam.prefix', p.customFieldData),
      created: restDateTime(p.created),
      last_updated: restDateTime(p.lastUpdated),
      children: p.children,
      _depth: p.depth,
    };
    if (v.hasOwnerField) out = withKeyAfter(out, 'description', 'owner', null);
  } else {
    out = {
      id: p.id,
      url,
      display_url: displayUrlValue,
      display: p.prefix,
      family: FAMILY[p.network.family],
      prefix: p.prefix,
      vrf: vrfBrief(ctx, p.vrfId),
      // 4.1 had only Prefix.site; a location-scoped record (from a 4.2 dump) shows its cached site.
      site: siteBrief(ctx, p.cached.siteId),
      tenant: tenantBrief(ctx, p.tenantId),
      vlan: vlanBrief(ctx, p.vlanId),
      status: choice(PREFIX_STATUS, p.status),
      role: roleBrief(ctx, p.roleId),
      is_pool: p.isPool,
      mark_utilized: p.markUtilized,
      description: p.description,
      comments: p.comments,
      tags: tagList(p.tags),
      custom_fields: customFieldValues(ctx, 'ipam.prefix', p.customFieldData),
      created: restDateTime(p.created),
      last_updated: restDateTime(p.lastUpdated),
      children: p.children,
      _depth: p.depth,
    };
  }
  return out;
}

export function siteRest(ctx: RenderContext, s: SiteRecord): JsonObject {
  const out: JsonObject = {
    ...head(ctx, 'dcim.site', s.id, s.name),
    name: s.name,
    slug: s.slug,
    status: choice(SITE_STATUS, s.status),
    region: treeBrief(ctx, 'dcim.region', s.regionId === null ? undefined : ctx.dataset.regions.get(s.regionId)),
    group: treeBrief(ctx, 'dcim.sitegroup', s.groupId === null ? undefined : ctx.dataset.siteGroups.get(s.groupId)),
    tenant: tenantBrief(ctx, s.tenantId),
    facility: s.facility,
    time_zone: s.timeZone,
    description: s.description,
    physical_address: s.physicalAddress,
    shipping_address: s.shippingAddress,
    latitude: s.latitude,
    longitude: s.longitude,
  };
  if (ctx.version.hasOwnerField) out.owner = null;
  Object.assign(out, {
    comments: s.comments,
    asns: [],
    tags: tagList(s.tags),
    custom_fields: customFieldValues(ctx, 'dcim.site', s.customFieldData),
    created: restDateTime(s.created),
    last_updated: restDateTime(s.lastUpdated),
    circuit_count: 0,
    device_count: 0,
    prefix_count: ctx.dataset.prefixCountForSite(s.id),
    rack_count: 0,
    virtualmachine_count: 0,
    vlan_count: 0,
  });
  return out;
}

export function roleRest(ctx: RenderContext, r: RoleRecord): JsonObject {
  const out: JsonObject = {
    ...head(ctx, 'ipam.role', r.id, r.name),
    name: r.name,
    slug: r.slug,
    weight: r.weight,
    description: r.description,
  };
  if (ctx.version.hasOwnerField) Object.assign(out, { owner: null, comments: r.comments });
  Object.assign(out, {
    tags: tagList(r.tags),
    custom_fields: customFieldValues(ctx, 'ipam.role', r.customFieldData),
    created: restDateTime(r.created),
    last_updated: restDateTime(r.lastUpdated),
    prefix_count: ctx.dataset.prefixCountForRole(r.id),
    vlan_count: 0,
  });
  if (ctx.version.hasFieldsSeenIn473) out.asn_count = 0;
  return out;
}

/** The secret is part of WebhookSerializer.Meta.fields (readable via the API) in every 4.x release. */
export function webhookRest(ctx: RenderContext, w: WebhookRecord): JsonObject {
  const out: JsonObject = {
    ...head(ctx, 'extras.webhook', w.id, w.name),
    name: w.name,
    description: w.description,
    payload_url: w.payloadUrl,
    http_method: w.httpMethod,
    http_content_type: w.httpContentType,
    additional_headers: w.additionalHeaders,
    body_template: w.bodyTemplate,
    secret: w.secret,
    ssl_verification: w.sslVerification,
    ca_file_path: w.caFilePath,
  };
  if (ctx.version.webhookHasTimeout) out.timeout = w.timeout;
  out.custom_fields = customFieldValues(ctx, 'extras.webhook', w.customFieldData);
  if (ctx.version.hasOwnerField) out.owner = null;
  Object.assign(out, { tags: tagList(w.tags), created: restDateTime(w.created), last_updated: restDateTime(w.lastUpdated) });
  return out;
}

export function eventRuleRest(ctx: RenderContext, e: EventRuleRecord): JsonObject {
  const out: JsonObject = {
    ...head(ctx, 'extras.eventrule', e.id, e.name),
    object_types: e.objectTypes,
    name: e.name,
    enabled: e.enabled,
    event_types: e.eventTypes,
    conditions: e.conditions as Json,
    action_type: { value: e.actionType, label: e.actionType === 'webhook' ? 'Webhook' : e.actionType },
    action_object_type: e.actionObjectType,
    action_object_id: e.actionObjectId,
    action_object: e.actionObjectType === 'extras.webhook' ? webhookBrief(ctx, e.actionObjectId) : null,
    ...(ctx.version.hasFieldsSeenIn473 ? { action_is_available: true } : {}),
    description: e.description,
    custom_fields: customFieldValues(ctx, 'extras.eventrule', e.customFieldData),
  };
  if (ctx.version.hasOwnerField) out.owner = null;
  Object.assign(out, { tags: tagList(e.tags), created: restDateTime(e.created), last_updated: restDateTime(e.lastUpdated) });
  return out;
}

export function customFieldRest(ctx: RenderContext, cf: CustomFieldRecord): JsonObject {
  const seenIn473 = ctx.version.hasFieldsSeenIn473;
  return {
    ...head(ctx, 'extras.customfield', cf.id, cf.label || cf.name),
    object_types: cf.objectTypes,
    type: choice(CUSTOM_FIELD_TYPES, cf.type),
    related_object_type: null,
    data_type: customFieldDataType(cf.type),
    name: cf.name,
    label: cf.label,
    group_name: cf.groupName,
    description: cf.description,
    required: cf.required,
    unique: cf.unique,
    search_weight: cf.searchWeight,
    filter_logic: choice(FILTER_LOGIC, cf.filterLogic),
    ui_visible: choice(UI_VISIBLE, cf.uiVisible),
    ui_editable: choice(UI_EDITABLE, cf.uiEditable),
    is_cloneable: cf.isCloneable,
    ...(seenIn473 ? { nulls_first: true } : {}),
    default: cf.default as Json,
    related_object_filter: null,
    weight: cf.weight,
    validation_minimum: cf.validationMinimum,
    validation_maximum: cf.validationMaximum,
    validation_regex: cf.validationRegex,
    ...(seenIn473 ? { validation_schema: null } : {}),
    choice_set: null,
    ...(seenIn473 ? { status: { value: 'active', label: 'Active' } } : {}),
    ...(ctx.version.hasOwnerField ? { owner: null } : {}),
    comments: cf.comments,
    created: restDateTime(cf.created),
    last_updated: restDateTime(cf.lastUpdated),
  };
}

function customFieldDataType(type: string): string {
  switch (type) {
    case 'integer':
      return 'integer';
    case 'decimal':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'json':
      return 'object';
    case 'multiselect':
    case 'multiobject':
      return 'array';
    default:
      return 'string';
  }
}

/** `?brief=1`, `?fields=a,b` and (4.5.2+) `?omit=a,b`, applied after rendering. */
export function selectFields(obj: JsonObject, keep: string[] | null, omit: string[] | null): JsonObject {
  if (!keep && !omit) return obj;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    if (keep && !keep.includes(k)) continue;
    if (omit && omit.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

// ---- Change-log snapshots (utilities/serialization.py serialize_object) ------------------------------

/**
 * Flat model dict: FKs as integer ids, custom_field_data as `custom_fields`, tag names sorted. Keys in model field
 * order (Django's serializer): ChangeLoggingMixin's `created`, OwnerMixin's `owner` (4.5+), PrimaryModel's
 * `description`/`comments`, CachedScopeMixin's scope columns (4.2+), then Prefix's own fields. No `last_updated`:
 * ChangeLoggingMixin snapshots with exclude=['last_updated']. Checked against a real 4.7.3's webhook bodies.
 */
export function prefixSnapshot(ctx: RenderContext, p: PrefixRecord): JsonObject {
  const v = ctx.version;
  const out: JsonObject = { created: snapshotDateTime(p.created) };
  if (v.hasOwnerField) out.owner = null;
  out.description = p.description;
  out.comments = p.comments;
  if (v.prefixHasScope) {
    Object.assign(out, {
      scope_type: p.scopeType === null ? null : ctx.dataset.contentTypeId(p.scopeType),
      scope_id: p.scopeId,
      _location: p.cached.locationId,
      _site: p.cached.siteId,
      _region: p.cached.regionId,
      _site_group: p.cached.siteGroupId,
    });
  }
  out.prefix = p.prefix;
  if (!v.prefixHasScope) out.site = p.cached.siteId;
  Object.assign(out, {
    vrf: p.vrfId,
    tenant: p.tenantId,
    vlan: p.vlanId,
    status: p.status,
    role: p.roleId,
    is_pool: p.isPool,
    mark_utilized: p.markUtilized,
    _depth: p.depth,
    _children: p.children,
  });
  out.custom_fields = { ...p.customFieldData } as JsonObject;
  out.tags = [...p.tags].sort();
  return out;
}

/** Like prefixSnapshot: no `last_updated`, `owner` (4.5+) after `created`. */
export function siteSnapshot(ctx: RenderContext, s: SiteRecord): JsonObject {
  const out: JsonObject = { created: snapshotDateTime(s.created) };
  if (ctx.version.hasOwnerField) out.owner = null;
  out.name = s.name;
  if (!ctx.version.prefixHasScope) out._name = s.name; // 4.1 still had the NaturalOrderingField column
  Object.assign(out, {
    slug: s.slug,
    status: s.status,
    facility: s.facility,
    time_zone: s.timeZone,
    description: s.description,
    physical_address: s.physicalAddress,
    shipping_address: s.shippingAddress,
    // Django's serializer writes DecimalField values as strings.
    latitude: s.latitude === null ? null : String(s.latitude),
    longitude: s.longitude === null ? null : String(s.longitude),
    comments: s.comments,
    group: s.groupId,
    region: s.regionId,
    tenant: s.tenantId,
    asns: [],
  });
  out.custom_fields = { ...s.customFieldData } as JsonObject;
  out.tags = [...s.tags].sort();
  return out;
}

export function roleSnapshot(ctx: RenderContext, r: RoleRecord): JsonObject {
  const out: JsonObject = { created: snapshotDateTime(r.created) };
  if (ctx.version.hasOwnerField) out.owner = null;
  Object.assign(out, { name: r.name, slug: r.slug, weight: r.weight, description: r.description });
  if (ctx.version.hasOwnerField) out.comments = r.comments;
  out.custom_fields = { ...r.customFieldData } as JsonObject;
  out.tags = [...r.tags].sort();
  return out;
}

// ---- Webhook body (extras/webhooks.py send_webhook, default template) --------------------------------

export type EventKind = 'created' | 'updated' | 'deleted';

export interface WebhookContextInput {
  event: EventKind;
  timestamp: Date;
  objectType: string; // 'ipam.prefix'
  data: JsonObject;
  snapshots: { prechange: JsonObject | null; postchange: JsonObject | null };
  username: string;
  requestId: string;
  request: { method: string; path: string };
}

/**
 * The template context NetBox dumps as the default body. Keys by version (netbox-api.md):
 * 4.1–4.3 model/username/request_id; 4.4 adds object_type; 4.5 drops model; 4.6 adds request;
 * 4.7 drops username/request_id (and its `request` carries `path_info` and `GET`, as a real 4.7.3 sends it).
 */
export function webhookContext(version: NetBoxVersion, input: WebhookContextInput): JsonObject {
  const out: JsonObject = { event: input.event, timestamp: pythonTimestamp(input.timestamp) };
  if (version.webhookBodyHasObjectType) out.object_type = input.objectType;
  if (version.webhookBodyHasModel) out.model = input.objectType.split('.')[1];
  if (version.webhookBodyHasUsernameAndRequestId) {
    out.username = input.username;
    out.request_id = input.requestId;
  }
  out.data = input.data;
  if (version.webhookBodyHasRequest) {
    const { method, path } = input.request;
    // 4.7.3 sends Django's request path_info and GET too (recorded); 4.6 as netbox-api.md describes it.
    out.request = version.hasFieldsSeenIn473
      ? { id: input.requestId, path, path_info: path, method, GET: {}, user: input.username }
      : { id: input.requestId, method, path, user: input.username };
  }
  out.snapshots = { prechange: input.snapshots.prechange, postchange: input.snapshots.postchange };
  return out;
}

// ---- /api/status/ ------------------------------------------------------------------------------------

const INSTALLED_APPS: JsonObject = {
  django_filters: '24.3',
  django_prometheus: '2.3.1',
  django_rq: '3.0',
  django_tables2: '2.7.5',
  drf_spectacular: '0.28.0',
  mptt: '0.16.0',
  rest_framework: '3.15.2',
  social_django: '5.4.2',
  taggit: '6.1.0',
  timezone_field: '7.1',
};

export function statusBody(version: NetBoxVersion, rqWorkers: number): JsonObject {
  const out: JsonObject = {
    'django-version': version.djangoVersion,
    [version.statusInstalledAppsKey]: INSTALLED_APPS,
    'netbox-version': version.full,
  };
  if (version.statusHasFullVersionKey) out['netbox-full-version'] = version.full;
  if (version.atLeast(4)) out.hostname = 'netbox-standin';
  Object.assign(out, { plugins: {}, 'python-version': '3.12.3', 'rq-workers-running': rqWorkers });
  return out;
}

// ---- Errors --------------------------------------------------------------------------------------------

/** A response NetBox would send instead of the object: DRF-style `{"field": ["message"]}` or `{"detail": ...}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: JsonObject,
  ) {
    super(`${status} ${JSON.stringify(body)}`);
  }

  static field(field: string, message: string): ApiError {
    return new ApiError(400, { [field]: [message] });
  }

  static fields(errors: Record<string, string[]>): ApiError {
    return new ApiError(400, errors);
  }

  static notFound(verboseName: string): ApiError {
    return new ApiError(404, { detail: `No ${verboseName} matches the given query.` });
  }
}
