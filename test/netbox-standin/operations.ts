/**
 * Writes to prefixes, sites and roles with NetBox's side effects: reference checks, cached scope
 * columns, PROTECT/CASCADE/SET_NULL rules per version, and object-change events (one batch per
 * request, dispatched to event rules after the write "commits").
 *
 * Both the REST routes and the stand-in's programmatic mutation API (`standIn.createPrefix(...)`)
 * come through here, so a test edit and an API edit produce the same webhooks.
 */
import { randomUUID } from 'node:crypto';
import { ChangeBatch, matchingRules, ObjectChange, ObjectType, RequestInfo } from './events';
import { DeliveryQueue } from './deliveries';
import { makePrefixRecord, NetBoxDataset, PrefixRecord, RoleRecord, ScopeType, SiteRecord } from './model';
import {
  ApiError,
  JsonObject,
  prefixRest,
  prefixSnapshot,
  RenderContext,
  roleRest,
  roleSnapshot,
  siteRest,
  siteSnapshot,
} from './shapes';
import { NetBoxVersion } from './version';

/** Version-neutral prefix fields (ids for foreign keys). */
export interface PrefixInput {
  prefix?: string;
  status?: string;
  description?: string;
  comments?: string;
  roleId?: number | null;
  vrfId?: number | null;
  tenantId?: number | null;
  vlanId?: number | null;
  /** Generic scope (4.2 model). `null` clears it. */
  scope?: { type: ScopeType; id: number } | null;
  /** Shorthand for `scope: {type: 'dcim.site', id}` (the 4.1 model). */
  siteId?: number | null;
  isPool?: boolean;
  markUtilized?: boolean;
  customFields?: Record<string, unknown>;
  tags?: string[];
}

export interface SiteInput {
  name?: string;
  slug?: string;
  status?: string;
  regionId?: number | null;
  groupId?: number | null;
  tenantId?: number | null;
  facility?: string;
  timeZone?: string | null;
  description?: string;
  comments?: string;
  customFields?: Record<string, unknown>;
  tags?: string[];
}

export interface RoleInput {
  name?: string;
  slug?: string;
  weight?: number;
  description?: string;
  comments?: string;
  customFields?: Record<string, unknown>;
}

/** Who made a change and through which request; programmatic edits get a synthetic request. */
export interface Actor {
  username: string;
  method: string;
  path: string;
  requestId?: string;
}

export interface OperationsDeps {
  version: NetBoxVersion;
  dataset: NetBoxDataset;
  deliveries: DeliveryQueue;
  clock: () => Date;
}

export class NetBoxOperations {
  constructor(private readonly deps: OperationsDeps) {}

  private get dataset(): NetBoxDataset {
    return this.deps.dataset;
  }

  /** Webhook `data` is serialized without a request, hence relative URLs. */
  private get eventCtx(): RenderContext {
    return { version: this.deps.version, dataset: this.dataset, base: '' };
  }

  // ---- Prefixes --------------------------------------------------------------------------------------

  createPrefix(input: PrefixInput, actor: Actor): PrefixRecord {
    if (!input.prefix) throw ApiError.field('prefix', 'This field is required.');
    const scope = this.resolveScope(input, null);
    this.checkPrefixReferences(input);
    const now = this.deps.clock();
    const row = this.dataset.insertPrefix((id) =>
      makePrefixRecord(this.dataset, id, {
        prefix: input.prefix!,
        status: input.status ?? 'active',
        description: input.description ?? '',
        comments: input.comments ?? '',
        roleId: input.roleId ?? null,
        vrfId: input.vrfId ?? null,
        tenantId: input.tenantId ?? null,
        vlanId: input.vlanId ?? null,
        scopeType: scope?.type ?? null,
        scopeId: scope?.id ?? null,
        isPool: input.isPool ?? false,
        markUtilized: input.markUtilized ?? false,
        customFieldData: this.withCustomFieldDefaults('ipam.prefix', input.customFields ?? {}),
        tags: input.tags ?? [],
        created: now,
        lastUpdated: now,
      }),
    );
    this.commit(actor, (batch) => batch.add(this.prefixChange('created', row, null)));
    return row;
  }

  updatePrefix(id: number, patch: PrefixInput, actor: Actor): PrefixRecord {
    const prev = this.mustGetPrefix(id);
    const before = prefixSnapshot(this.eventCtx, prev);
    const scope = this.resolveScope(patch, prev);
    this.checkPrefixReferences(patch);
    const fresh = makePrefixRecord(this.dataset, id, {
      prefix: patch.prefix ?? prev.prefix,
      status: patch.status ?? prev.status,
      description: patch.description ?? prev.description,
      comments: patch.comments ?? prev.comments,
      roleId: patch.roleId !== undefined ? patch.roleId : prev.roleId,
      vrfId: patch.vrfId !== undefined ? patch.vrfId : prev.vrfId,
      tenantId: patch.tenantId !== undefined ? patch.tenantId : prev.tenantId,
      vlanId: patch.vlanId !== undefined ? patch.vlanId : prev.vlanId,
      scopeType: scope?.type ?? null,
      scopeId: scope?.id ?? null,
      isPool: patch.isPool ?? prev.isPool,
      markUtilized: patch.markUtilized ?? prev.markUtilized,
      customFieldData: { ...prev.customFieldData, ...(patch.customFields ?? {}) },
      tags: patch.tags ?? prev.tags,
      children: prev.children,
      depth: prev.depth,
      created: prev.created,
      lastUpdated: this.deps.clock(),
    });
    this.dataset.replacePrefix(fresh);
    this.commit(actor, (batch) => batch.add(this.prefixChange('updated', fresh, before)));
    return fresh;
  }

  deletePrefix(id: number, actor: Actor): void {
    const row = this.mustGetPrefix(id);
    const change = this.prefixChange('deleted', row, prefixSnapshot(this.eventCtx, row));
    this.dataset.removePrefix(id);
    this.commit(actor, (batch) => batch.add(change));
  }

  private mustGetPrefix(id: number): PrefixRecord {
    const row = this.dataset.prefixes.get(id);
    if (!row) throw ApiError.notFound('Prefix');
    return row;
  }

  /** New scope for a write: `scope` wins, then `siteId`, else the previous scope (or none). */
  private resolveScope(input: PrefixInput, prev: PrefixRecord | null): { type: ScopeType; id: number } | null {
    let scope: { type: ScopeType; id: number } | null;
    if (input.scope !== undefined) scope = input.scope;
    else if (input.siteId !== undefined) scope = input.siteId === null ? null : { type: 'dcim.site', id: input.siteId };
    else scope = prev?.scopeType && prev.scopeId !== null ? { type: prev.scopeType, id: prev.scopeId } : null;
    if (scope && !this.dataset.scopeExists(scope.type, scope.id)) {
      if (!this.deps.version.prefixHasScope) {
        throw ApiError.field('site', `Related object not found using the provided numeric ID: ${scope.id}`);
      }
      throw ApiError.field('scope', `Related object not found using the provided numeric ID: ${scope.id}`);
    }
    return scope;
  }

  private checkPrefixReferences(input: PrefixInput): void {
    const errors: Record<string, string[]> = {};
    const check = (field: string, id: number | null | undefined, exists: (id: number) => boolean) => {
      if (id !== undefined && id !== null && !exists(id)) errors[field] = [`Related object not found using the provided numeric ID: ${id}`];
    };
    check('role', input.roleId, (id) => this.dataset.roles.has(id));
    check('vrf', input.vrfId, (id) => this.dataset.vrfs.has(id));
    check('tenant', input.tenantId, (id) => this.dataset.tenants.has(id));
    check('vlan', input.vlanId, (id) => this.dataset.vlans.has(id));
    if (Object.keys(errors).length) throw ApiError.fields(errors);
    if (input.customFields) this.checkCustomFields('ipam.prefix', input.customFields);
  }

  private prefixChange(event: ObjectChange['event'], row: PrefixRecord, prechange: JsonObject | null): ObjectChange {
    return {
      objectType: 'ipam.prefix',
      objectId: row.id,
      event,
      data: prefixRest(this.eventCtx, row),
      prechange,
      postchange: event === 'deleted' ? null : prefixSnapshot(this.eventCtx, row),
    };
  }

  // ---- Sites -----------------------------------------------------------------------------------------

  createSite(input: SiteInput, actor: Actor): SiteRecord {
    this.checkSite(input, null);
    const now = this.deps.clock();
    const row = this.dataset.sites.insert((id) => ({
      id,
      name: input.name!,
      slug: input.slug!,
      status: input.status ?? 'active',
      facility: input.facility ?? '',
      timeZone: input.timeZone ?? null,
      description: input.description ?? '',
      physicalAddress: '',
      shippingAddress: '',
      latitude: null,
      longitude: null,
      comments: input.comments ?? '',
      groupId: input.groupId ?? null,
      regionId: input.regionId ?? null,
      tenantId: input.tenantId ?? null,
      customFieldData: this.withCustomFieldDefaults('dcim.site', input.customFields ?? {}),
      tags: input.tags ?? [],
      created: now,
      lastUpdated: now,
    }));
    this.commit(actor, (batch) => batch.add(this.siteChange('created', row, null)));
    return row;
  }

  updateSite(id: number, patch: SiteInput, actor: Actor): SiteRecord {
    const prev = this.dataset.sites.get(id);
    if (!prev) throw ApiError.notFound('Site');
    this.checkSite(patch, prev);
    const before = siteSnapshot(this.eventCtx, prev);
    const next: SiteRecord = {
      ...prev,
      name: patch.name ?? prev.name,
      slug: patch.slug ?? prev.slug,
      status: patch.status ?? prev.status,
      facility: patch.facility ?? prev.facility,
      timeZone: patch.timeZone !== undefined ? patch.timeZone : prev.timeZone,
      description: patch.description ?? prev.description,
      comments: patch.comments ?? prev.comments,
      regionId: patch.regionId !== undefined ? patch.regionId : prev.regionId,
      groupId: patch.groupId !== undefined ? patch.groupId : prev.groupId,
      tenantId: patch.tenantId !== undefined ? patch.tenantId : prev.tenantId,
      customFieldData: { ...prev.customFieldData, ...(patch.customFields ?? {}) },
      tags: patch.tags ?? prev.tags,
      lastUpdated: this.deps.clock(),
    };
    this.dataset.sites.replace(next);
    const rescoped = next.regionId !== prev.regionId || next.groupId !== prev.groupId;
    const resave = this.deps.version.siteEditEmitsPrefixUpdates;
    const prefixBefore = new Map<number, JsonObject>();
    if (resave) {
      for (const pid of this.dataset.prefixIdsInSite(id)) prefixBefore.set(pid, prefixSnapshot(this.eventCtx, this.dataset.prefixes.get(pid)!));
    }
    // Cached _region/_site_group follow the site (NetBox updates them with a queryset update, no events).
    if (rescoped) this.dataset.recacheScopesForSite(id);
    this.commit(actor, (batch) => {
      batch.add(this.siteChange('updated', next, before));
      if (resave) {
        // 4.4.9–4.5.0 re-save the site's scoped prefixes (bumping last_updated), emitting `updated`.
        const now = this.deps.clock();
        for (const [pid, snapshot] of prefixBefore) {
          const p = { ...this.dataset.prefixes.get(pid)!, lastUpdated: now };
          this.dataset.replacePrefix(p);
          batch.add(this.prefixChange('updated', p, snapshot));
        }
      }
    });
    return next;
  }

  /**
   * 4.1: Prefix.site is on_delete=PROTECT → 409 while prefixes reference the site.
   * 4.2+: prefixes cached to the site (`_site`, so also those scoped to its locations) cascade,
   * one prefix `deleted` event each, plus the site's own `deleted`.
   */
  deleteSite(id: number, actor: Actor): void {
    const site = this.dataset.sites.get(id);
    if (!site) throw ApiError.notFound('Site');
    const prefixIds = this.dataset.prefixIdsInSite(id);
    if (!this.deps.version.siteDeleteCascadesPrefixes && prefixIds.length) {
      // Body and wording from netbox/netbox/api/viewsets/__init__.py (ProtectedError handler):
      // `{"detail": "Unable to delete object. N dependent objects were found: <str(obj)> (<pk>), ..."}`.
      const list = prefixIds.map((pid) => `${this.dataset.prefixes.get(pid)!.prefix} (${pid})`).join(', ');
      throw new ApiError(409, { detail: `Unable to delete object. ${prefixIds.length} dependent objects were found: ${list}` });
    }
    const siteBefore = this.siteChange('deleted', site, siteSnapshot(this.eventCtx, site));
    const cascaded = prefixIds.map((pid) => {
      const p = this.dataset.prefixes.get(pid)!;
      return this.prefixChange('deleted', p, prefixSnapshot(this.eventCtx, p));
    });
    for (const pid of prefixIds) this.dataset.removePrefix(pid);
    for (const loc of this.dataset.locations.all().filter((l) => l.siteId === id)) this.dataset.locations.delete(loc.id);
    this.dataset.sites.delete(id);
    this.commit(actor, (batch) => {
      for (const change of cascaded) batch.add(change);
      batch.add(siteBefore);
    });
  }

  private checkSite(input: SiteInput, prev: SiteRecord | null): void {
    const errors: Record<string, string[]> = {};
    const add = (field: string, msg: string) => (errors[field] = [...(errors[field] ?? []), msg]);
    for (const field of ['name', 'slug'] as const) {
      const value = input[field];
      if (!prev && !value) add(field, 'This field is required.');
      if (value !== undefined && value.length > 100) add(field, 'Ensure this field has no more than 100 characters.');
      if (value && this.dataset.sites.all().some((s) => s.id !== prev?.id && s[field].toLowerCase() === value.toLowerCase())) {
        add(field, `site with this ${field} already exists.`);
      }
    }
    if (input.slug && !/^[-a-zA-Z0-9_]+$/.test(input.slug)) {
      add('slug', 'Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.');
    }
    if (input.regionId != null && !this.dataset.regions.has(input.regionId)) add('region', `Related object not found using the provided numeric ID: ${input.regionId}`);
    if (input.groupId != null && !this.dataset.siteGroups.has(input.groupId)) add('group', `Related object not found using the provided numeric ID: ${input.groupId}`);
    if (input.tenantId != null && !this.dataset.tenants.has(input.tenantId)) add('tenant', `Related object not found using the provided numeric ID: ${input.tenantId}`);
    if (Object.keys(errors).length) throw ApiError.fields(errors);
    if (input.customFields) this.checkCustomFields('dcim.site', input.customFields);
  }

  private siteChange(event: ObjectChange['event'], row: SiteRecord, prechange: JsonObject | null): ObjectChange {
    return {
      objectType: 'dcim.site',
      objectId: row.id,
      event,
      data: siteRest(this.eventCtx, row),
      prechange,
      postchange: event === 'deleted' ? null : siteSnapshot(this.eventCtx, row),
    };
  }

  // ---- Roles -----------------------------------------------------------------------------------------

  createRole(input: RoleInput, actor: Actor): RoleRecord {
    const errors: Record<string, string[]> = {};
    for (const field of ['name', 'slug'] as const) {
      const value = input[field];
      if (!value) errors[field] = ['This field is required.'];
      else if (this.dataset.roles.all().some((r) => r[field].toLowerCase() === value.toLowerCase())) errors[field] = [`role with this ${field} already exists.`];
    }
    if (Object.keys(errors).length) throw ApiError.fields(errors);
    const now = this.deps.clock();
    const row = this.dataset.roles.insert((id) => ({
      id,
      name: input.name!,
      slug: input.slug!,
      weight: input.weight ?? 1000,
      description: input.description ?? '',
      comments: input.comments ?? '',
      customFieldData: this.withCustomFieldDefaults('ipam.role', input.customFields ?? {}),
      tags: [],
      created: now,
      lastUpdated: now,
    }));
    this.commit(actor, (batch) => batch.add(this.roleChange('created', row, null)));
    return row;
  }

  /** Prefix.role is SET_NULL; from 4.2.9 each affected prefix also emits `updated`. */
  deleteRole(id: number, actor: Actor): void {
    const role = this.dataset.roles.get(id);
    if (!role) throw ApiError.notFound('Role');
    const roleChange = this.roleChange('deleted', role, roleSnapshot(this.eventCtx, role));
    const prefixChanges: ObjectChange[] = [];
    for (const pid of this.dataset.prefixIdsWithRole(id)) {
      const prev = this.dataset.prefixes.get(pid)!;
      const before = prefixSnapshot(this.eventCtx, prev);
      const next = { ...prev, roleId: null };
      this.dataset.replacePrefix(next);
      prefixChanges.push(this.prefixChange('updated', next, before));
    }
    this.dataset.roles.delete(id);
    this.commit(actor, (batch) => {
      if (this.deps.version.roleDeleteEmitsPrefixUpdates) for (const change of prefixChanges) batch.add(change);
      batch.add(roleChange);
    });
  }

  private roleChange(event: ObjectChange['event'], row: RoleRecord, prechange: JsonObject | null): ObjectChange {
    return {
      objectType: 'ipam.role',
      objectId: row.id,
      event,
      data: roleRest(this.eventCtx, row),
      prechange,
      postchange: event === 'deleted' ? null : roleSnapshot(this.eventCtx, row),
    };
  }

  // ---- Custom field data on NetBox objects -------------------------------------------------------------

  /** CustomFieldsMixin.clean(): unknown names and wrong types are rejected (DRF turns it into `__all__`). */
  checkCustomFields(objectType: string, values: Record<string, unknown>): void {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      throw ApiError.field(
        'custom_fields',
        'Invalid data format. Custom field data must be passed as a dictionary mapping field names to their values.',
      );
    }
    const fields = new Map(this.dataset.customFieldsFor(objectType).map((cf) => [cf.name, cf]));
    for (const [name, value] of Object.entries(values)) {
      const cf = fields.get(name);
      if (!cf) throw ApiError.field('__all__', `Unknown field name '${name}' in custom field data.`);
      const problem = value === null ? null : customFieldValueProblem(cf.type, value, cf.validationRegex);
      if (problem) throw ApiError.field('__all__', `Invalid value for custom field '${name}': ${problem}`);
    }
  }

  withCustomFieldDefaults(objectType: string, values: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const cf of this.dataset.customFieldsFor(objectType)) out[cf.name] = cf.default ?? null;
    return { ...out, ...values };
  }

  // ---- Commit: evaluate event rules for the batch ----------------------------------------------------

  private commit(actor: Actor, collect: (batch: ChangeBatch) => void): void {
    const batch = new ChangeBatch();
    collect(batch);
    const request: RequestInfo = {
      id: actor.requestId ?? randomUUID(),
      method: actor.method,
      path: actor.path,
      username: actor.username,
    };
    for (const change of batch.all) {
      const timestamp = this.deps.clock();
      for (const rule of matchingRules(this.dataset, change)) {
        if (rule.actionObjectType !== 'extras.webhook' || rule.actionObjectId === null) continue;
        this.deps.deliveries.enqueue(rule.id, rule.actionObjectId, { ...change, timestamp, request });
      }
    }
  }
}

export function customFieldValueProblem(type: string, value: unknown, regex = ''): string | null {
  switch (type) {
    case 'text':
    case 'longtext':
    case 'url':
      if (typeof value !== 'string') return 'Value must be a string.';
      if (regex && !new RegExp(regex).test(value)) return `Values must match this regex: '${regex}'`;
      return null;
    case 'integer':
      return Number.isInteger(value) ? null : 'Value must be an integer.';
    case 'decimal':
      return typeof value === 'number' || (typeof value === 'string' && !Number.isNaN(Number(value))) ? null : 'Value must be a decimal.';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'Value must be true or false.';
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? null : 'Date values must be in ISO 8601 format (YYYY-MM-DD).';
    default:
      return null;
  }
}

/** Object types whose changes the stand-in reports as events. */
export const EVENT_OBJECT_TYPES: ObjectType[] = ['ipam.prefix', 'dcim.site', 'ipam.role'];
