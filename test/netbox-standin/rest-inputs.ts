/**
 * REST request bodies for prefixes, sites and roles → version-neutral inputs (operations.ts).
 *
 * Version rules (as DRF ignores unknown keys, a wrong-version field is silently dropped, exactly
 * the trap a real client falls into):
 * - 4.1 prefixes take `site` (id); `scope_type`/`scope_id` are ignored.
 * - 4.2+ prefixes take `scope_type` + `scope_id`; `site` is ignored. Both default to null on POST
 *   and PUT (PrefixSerializer declares `default=None`), so a PUT without them clears the scope.
 */
import { parseCidr } from './cidr';
import { NetBoxDataset, PrefixRecord, SCOPE_TYPES, ScopeType } from './model';
import { PrefixInput, RoleInput, SiteInput } from './operations';
import { ApiError } from './shapes';
import { BodyReader } from './validate';
import { NetBoxVersion } from './version';

export type WriteMode = 'create' | 'put' | 'patch';

const PREFIX_STATUSES = ['container', 'active', 'reserved', 'deprecated'];
const SITE_STATUSES = ['planned', 'staging', 'active', 'decommissioning', 'retired'];

export function parsePrefixBody(
  version: NetBoxVersion,
  dataset: NetBoxDataset,
  raw: unknown,
  mode: WriteMode,
  existing: PrefixRecord | null,
  extraStatuses: string[],
): PrefixInput {
  const r = new BodyReader(raw, mode === 'patch');
  const input: PrefixInput = {};
  const prefixText = r.string('prefix', { required: true, blank: false });
  if (typeof prefixText === 'string') {
    const parsed = parseCidr(prefixText);
    if ('error' in parsed) r.fail('prefix', parsed.error);
    else input.prefix = parsed.text;
  }
  input.status = r.choice('status', [...PREFIX_STATUSES, ...extraStatuses]);
  input.description = r.string('description', { max: 200 }) ?? undefined;
  input.comments = r.string('comments') ?? undefined;
  input.roleId = r.relatedId('role');
  input.vrfId = r.relatedId('vrf');
  input.tenantId = r.relatedId('tenant');
  input.vlanId = r.relatedId('vlan');
  input.isPool = r.boolean('is_pool');
  input.markUtilized = r.boolean('mark_utilized');
  input.tags = r.tags();
  const customFields = r.object('custom_fields');
  if (customFields !== undefined) input.customFields = customFields;

  if (version.prefixHasScope) {
    let scopeType: string | null | undefined = r.string('scope_type', { nullable: true });
    let scopeId: number | null | undefined = r.integer('scope_id', { nullable: true });
    if (scopeType && !(SCOPE_TYPES as readonly string[]).includes(scopeType)) {
      r.fail('scope_type', /^\w+\.\w+$/.test(scopeType) ? `Invalid content type: ${scopeType}` : "Invalid value. Specify a content type as '<app_label>.<model_name>'.");
    }
    r.done();
    if (mode !== 'patch') {
      scopeType = scopeType ?? null;
      scopeId = scopeId ?? null;
    } else {
      if (scopeType === undefined) scopeType = existing?.scopeType ?? null;
      if (scopeId === undefined) scopeId = existing?.scopeId ?? null;
    }
    if (scopeType && scopeId === null) {
      // CachedScopeMixin.clean(): a scope type without an object.
      throw ApiError.field('scope', `Please select a ${scopeType.split('.')[1]}.`);
    }
    if (!scopeType && scopeId !== null) throw ApiError.field('scope_type', 'A scope type is required when scope_id is set.');
    input.scope = scopeType ? { type: scopeType as ScopeType, id: scopeId! } : null;
  } else {
    const site = r.relatedId('site');
    r.done();
    if (site !== undefined) input.siteId = site;
  }
  if (input.scope && !dataset.scopeExists(input.scope.type, input.scope.id)) {
    throw ApiError.field('scope', `Related object not found using the provided numeric ID: ${input.scope.id}`);
  }
  return dropUndefined(input);
}

export function parseSiteBody(raw: unknown, mode: WriteMode): SiteInput {
  const r = new BodyReader(raw, mode === 'patch');
  const input: SiteInput = {
    name: r.string('name', { required: true, max: 100, blank: false }) ?? undefined,
    slug: r.string('slug', { required: true, max: 100, blank: false }) ?? undefined,
    status: r.choice('status', SITE_STATUSES),
    regionId: r.relatedId('region'),
    groupId: r.relatedId('group'),
    tenantId: r.relatedId('tenant'),
    facility: r.string('facility', { max: 50 }) ?? undefined,
    timeZone: r.string('time_zone', { nullable: true }),
    description: r.string('description', { max: 200 }) ?? undefined,
    comments: r.string('comments') ?? undefined,
    tags: r.tags(),
    customFields: r.object('custom_fields'),
  };
  r.done();
  return dropUndefined(input);
}

export function parseRoleBody(raw: unknown, mode: WriteMode): RoleInput {
  const r = new BodyReader(raw, mode === 'patch');
  const input: RoleInput = {
    name: r.string('name', { required: true, max: 100, blank: false }) ?? undefined,
    slug: r.string('slug', { required: true, max: 100, blank: false }) ?? undefined,
    weight: r.integer('weight', { min: 0, max: 32767 }) ?? undefined,
    description: r.string('description', { max: 200 }) ?? undefined,
    comments: r.string('comments') ?? undefined,
    customFields: r.object('custom_fields'),
  };
  r.done();
  return dropUndefined(input);
}

function dropUndefined<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as Array<keyof T>) if (obj[key] === undefined) delete obj[key];
  return obj;
}
