/**
 * List endpoints: query parsing, django-filter style filters, ordering and pagination.
 *
 * Pagination follows netbox/netbox/api/pagination.py (OptionalLimitOffsetPagination, current
 * main): no `limit` → min(PAGINATE_COUNT=50, MAX_PAGE_SIZE); `limit=0` → MAX_PAGE_SIZE; larger
 * limits are capped silently; a non-numeric/negative limit falls back to 50. `next`/`previous`
 * are absolute URLs built like DRF's replace_query_param (query keys sorted), from the request
 * Host (or the configured advertised host, to prove clients do not trust it).
 *
 * Default prefix ordering is NetBox's Prefix.Meta.ordering: (vrf NULLS FIRST, prefix, pk), with
 * PostgreSQL cidr ordering for `prefix`. Tests that page through a changing table should pass
 * `ordering=id` (or, 4.6+, use `start=` cursor paging).
 */
import { compareCidr, containsOrEquals, parseCidr, ParsedCidr, strictlyContains } from './cidr';
import { NetBoxDataset, PrefixRecord, SCOPE_TYPES, ScopeType } from './model';
import { ApiError } from './shapes';
import { NetBoxVersion } from './version';

export type Query = Record<string, string[]>;

export function parseQuery(rawQuery: string): Query {
  const out: Query = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) (out[k] ??= []).push(v);
  return out;
}

export function first(query: Query, key: string): string | undefined {
  return query[key]?.[0];
}

/** Python's urlencode(sorted(items), doseq=True), as DRF uses when rewriting page links. */
function encodeQuery(query: Query): string {
  return Object.keys(query)
    .sort()
    .flatMap((k) => query[k].map((v) => `${quotePlus(k)}=${quotePlus(v)}`))
    .join('&');
}

function quotePlus(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// ---- Pagination ----------------------------------------------------------------------------------

export interface PageRequest {
  /** `http://host:port` used for next/previous. */
  origin: string;
  path: string;
  query: Query;
  maxPageSize: number;
}

export interface Page<T> {
  count: number | null;
  next: string | null;
  previous: string | null;
  results: T[];
}

const PAGINATE_COUNT = 50;

export function pageLimit(query: Query, maxPageSize: number): number {
  const raw = first(query, 'limit');
  if (raw === undefined) return Math.min(PAGINATE_COUNT, maxPageSize);
  if (!/^\s*\d+\s*$/.test(raw)) return PAGINATE_COUNT;
  const limit = Number(raw);
  return limit === 0 ? maxPageSize : Math.min(limit, maxPageSize);
}

function pageOffset(query: Query): number {
  const raw = first(query, 'offset');
  return raw !== undefined && /^\s*\d+\s*$/.test(raw) ? Number(raw) : 0;
}

export function paginate<T>(rows: T[], req: PageRequest): Page<T> {
  const limit = pageLimit(req.query, req.maxPageSize);
  const offset = pageOffset(req.query);
  const count = rows.length;
  const results = count === 0 || offset > count ? [] : rows.slice(offset, offset + limit);
  const link = (q: Query) => {
    const qs = encodeQuery(q);
    return `${req.origin}${req.path}${qs ? `?${qs}` : ''}`;
  };
  let next: string | null = null;
  if (offset + limit < count) next = link({ ...req.query, limit: [String(limit)], offset: [String(offset + limit)] });
  let previous: string | null = null;
  if (offset > 0) {
    if (offset - limit <= 0) {
      const { offset: _dropped, ...rest } = req.query;
      previous = link({ ...rest, limit: [String(limit)] });
    } else {
      previous = link({ ...req.query, limit: [String(limit)], offset: [String(offset - limit)] });
    }
  }
  return { count, next, previous, results };
}

/**
 * 4.6+ cursor paging: `?start=<pk>&limit=N` returns rows with pk ≥ start in pk order, `count: null`,
 * and a `next` link that starts after the last row. Combining it with offset/ordering is a 400.
 */
export function paginateByCursor<T extends { id: number }>(idOrdered: T[], req: PageRequest): Page<T> {
  if (first(req.query, 'offset') !== undefined || first(req.query, 'ordering') !== undefined) {
    throw new ApiError(400, { detail: 'Cursor-based pagination (start) cannot be combined with offset or ordering.' });
  }
  const raw = first(req.query, 'start')!;
  if (!/^\d+$/.test(raw)) throw ApiError.field('start', 'A valid integer is required.');
  const start = Number(raw);
  const limit = pageLimit(req.query, req.maxPageSize);
  const from = lowerBound(idOrdered, start);
  const results = idOrdered.slice(from, from + limit);
  const more = from + limit < idOrdered.length;
  const next = more
    ? `${req.origin}${req.path}?${encodeQuery({ ...req.query, limit: [String(limit)], start: [String(results[results.length - 1].id + 1)] })}`
    : null;
  return { count: null, next, previous: null, results };
}

/** First index whose id ≥ target in an id-ordered array. */
function lowerBound<T extends { id: number }>(rows: T[], target: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid].id < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---- Filter helpers --------------------------------------------------------------------------------

type Predicate<T> = (row: T) => boolean;

export class FilterSet<T> {
  readonly predicates: Array<Predicate<T>> = [];
  readonly errors: Record<string, string[]> = {};

  constructor(readonly query: Query) {}

  add(p: Predicate<T>): void {
    this.predicates.push(p);
  }

  fail(field: string, message: string): void {
    (this.errors[field] ??= []).push(message);
  }

  /** MultiValueNumberFilter: every value must be an integer ("Enter a number."). */
  numbers(key: string): number[] | null {
    const values = this.query[key];
    if (!values) return null;
    const out: number[] = [];
    for (const v of values) {
      if (!/^-?\d+$/.test(v.trim())) {
        this.fail(key, 'Enter a number.');
        return null;
      }
      out.push(Number(v));
    }
    return out;
  }

  /**
   * ModelMultipleChoiceFilter by pk: ids must exist (a missing id is a 400, as in NetBox), and
   * `null` selects rows without the relation. Returns the wanted ids (null entry = "none").
   */
  related(key: string, exists: (id: number) => boolean): Array<number | null> | null {
    const values = this.query[key];
    if (!values) return null;
    const out: Array<number | null> = [];
    for (const v of values) {
      if (v === 'null') {
        out.push(null);
        continue;
      }
      if (!/^\d+$/.test(v) || !exists(Number(v))) {
        this.fail(key, `Select a valid choice. ${v} is not one of the available choices.`);
        return null;
      }
      out.push(Number(v));
    }
    return out;
  }

  /** ModelMultipleChoiceFilter by slug (`to_field_name='slug'`). */
  relatedBySlug(key: string, lookup: (slug: string) => number | undefined): Array<number | null> | null {
    const values = this.query[key];
    if (!values) return null;
    const out: Array<number | null> = [];
    for (const v of values) {
      if (v === 'null') {
        out.push(null);
        continue;
      }
      const id = lookup(v);
      if (id === undefined) {
        this.fail(key, `Select a valid choice. ${v} is not one of the available choices.`);
        return null;
      }
      out.push(id);
    }
    return out;
  }

  dateTime(key: string): Date | null {
    const v = first(this.query, key);
    if (v === undefined) return null;
    const d = parseDjangoDateTime(v);
    if (!d) this.fail(key, 'Enter a valid date/time.');
    return d;
  }

  /** id, id__n, id__gt/gte/lt/lte. */
  ids(get: (row: T) => number): void {
    const eq = this.numbers('id');
    if (eq) {
      const set = new Set(eq);
      this.add((r) => set.has(get(r)));
    }
    const ne = this.numbers('id__n');
    if (ne) {
      const set = new Set(ne);
      this.add((r) => !set.has(get(r)));
    }
    const cmp: Array<[string, (a: number, b: number) => boolean]> = [
      ['id__gt', (a, b) => a > b],
      ['id__gte', (a, b) => a >= b],
      ['id__lt', (a, b) => a < b],
      ['id__lte', (a, b) => a <= b],
    ];
    for (const [key, op] of cmp) {
      const n = this.numbers(key);
      if (n) this.add((r) => op(get(r), n[0]));
    }
  }

  /** Exact-match multi-value string filters such as `name`, `slug`. */
  exact(key: string, get: (row: T) => string): void {
    const values = this.query[key];
    if (values) this.add((r) => values.includes(get(r)));
  }

  timestamps(field: 'last_updated' | 'created', get: (row: T) => Date): void {
    const cmp: Array<[string, (a: number, b: number) => boolean]> = [
      ['', (a, b) => a === b],
      ['__gte', (a, b) => a >= b],
      ['__gt', (a, b) => a > b],
      ['__lte', (a, b) => a <= b],
      ['__lt', (a, b) => a < b],
    ];
    for (const [suffix, op] of cmp) {
      const d = this.dateTime(`${field}${suffix}`);
      if (d) this.add((r) => op(get(r).getTime(), d.getTime()));
    }
  }

  apply(rows: T[]): T[] {
    if (Object.keys(this.errors).length) throw ApiError.fields(this.errors);
    if (!this.predicates.length) return rows;
    return rows.filter((r) => this.predicates.every((p) => p(r)));
  }
}

/** Django's DateTimeField input: ISO-ish with optional time, fraction and offset; naive = UTC (TIME_ZONE). */
export function parseDjangoDateTime(text: string): Date | null {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text.trim());
  if (!m) return null;
  const time = m[2] ?? '00:00:00';
  let tz = m[3] ?? 'Z';
  if (/^[+-]\d{4}$/.test(tz)) tz = `${tz.slice(0, 3)}:${tz.slice(3)}`;
  const frac = /\.(\d+)/.exec(time);
  const normalizedTime = frac ? time.replace(/\.\d+/, `.${frac[1].slice(0, 3).padEnd(3, '0')}`) : time;
  const d = new Date(`${m[1]}T${normalizedTime.length === 5 ? `${normalizedTime}:00` : normalizedTime}${tz}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

// ---- Prefixes ----------------------------------------------------------------------------------------

const PREFIX_ORDERING: Record<string, (a: PrefixRecord, b: PrefixRecord) => number> = {
  id: (a, b) => a.id - b.id,
  prefix: (a, b) => compareCidr(a.network, b.network),
  vrf: (a, b) => nullsFirst(a.vrfId, b.vrfId),
  status: (a, b) => a.status.localeCompare(b.status),
  description: (a, b) => a.description.localeCompare(b.description),
  created: (a, b) => a.created.getTime() - b.created.getTime(),
  last_updated: (a, b) => a.lastUpdated.getTime() - b.lastUpdated.getTime(),
  _depth: (a, b) => a.depth - b.depth,
  children: (a, b) => a.children - b.children,
};

function nullsFirst(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a - b;
}

/** Sorted prefix arrays, cached per ordering until the prefix table changes. */
export class PrefixOrderings {
  private revision = -1;
  private cache = new Map<string, PrefixRecord[]>();

  constructor(private readonly dataset: NetBoxDataset) {}

  /** `ordering` value (e.g. `-id`, `prefix,id`) or undefined for NetBox's default ordering. */
  sorted(ordering: string | undefined): PrefixRecord[] {
    if (this.revision !== this.dataset.prefixRevision) {
      this.cache.clear();
      this.revision = this.dataset.prefixRevision;
    }
    const terms = (ordering ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => PREFIX_ORDERING[t.replace(/^-/, '')]); // DRF OrderingFilter ignores unknown fields
    const key = terms.length ? terms.join(',') : '<default>';
    let rows = this.cache.get(key);
    if (!rows) {
      const all = this.dataset.prefixes.all();
      if (key === 'id') rows = all;
      else {
        const cmps = terms.length ? terms : ['vrf', 'prefix', 'id'];
        rows = [...all].sort((a, b) => {
          for (const t of cmps) {
            const desc = t.startsWith('-');
            const c = PREFIX_ORDERING[t.replace(/^-/, '')](a, b);
            if (c !== 0) return desc ? -c : c;
          }
          return a.id - b.id;
        });
      }
      this.cache.set(key, rows);
    }
    return rows;
  }
}

/** PrefixFilterSet subset: the filters this project's client uses, per version. */
export function prefixFilters(version: NetBoxVersion, dataset: NetBoxDataset, query: Query): FilterSet<PrefixRecord> {
  const f = new FilterSet<PrefixRecord>(query);
  f.ids((p) => p.id);
  f.timestamps('last_updated', (p) => p.lastUpdated);
  f.timestamps('created', (p) => p.created);

  const nullable = (key: string, wanted: Array<number | null> | null, get: (p: PrefixRecord) => number | null, negate = false) => {
    if (!wanted) return;
    const set = new Set(wanted);
    f.add((p) => set.has(get(p)) !== negate);
  };
  const roleSlug = (slug: string) => dataset.roles.all().find((r) => r.slug === slug)?.id;
  nullable('role_id', f.related('role_id', (id) => dataset.roles.has(id)), (p) => p.roleId);
  nullable('role_id__n', f.related('role_id__n', (id) => dataset.roles.has(id)), (p) => p.roleId, true);
  nullable('role', f.relatedBySlug('role', roleSlug), (p) => p.roleId);
  nullable('role__n', f.relatedBySlug('role__n', roleSlug), (p) => p.roleId, true);
  nullable('vrf_id', f.related('vrf_id', (id) => dataset.vrfs.has(id)), (p) => p.vrfId);
  nullable('tenant_id', f.related('tenant_id', (id) => dataset.tenants.has(id)), (p) => p.tenantId);
  nullable('vlan_id', f.related('vlan_id', (id) => dataset.vlans.has(id)), (p) => p.vlanId);

  // Site filters match the cached site (4.1: Prefix.site; 4.2+: `_site`, so location scopes count).
  const siteSlug = (slug: string) => dataset.sites.all().find((s) => s.slug === slug)?.id;
  nullable('site_id', f.related('site_id', (id) => dataset.sites.has(id)), (p) => p.cached.siteId);
  nullable('site', f.relatedBySlug('site', siteSlug), (p) => p.cached.siteId);
  nullable('site_id__n', f.related('site_id__n', (id) => dataset.sites.has(id)), (p) => p.cached.siteId, true);
  nullable('location_id', f.related('location_id', (id) => dataset.locations.has(id)), (p) => p.cached.locationId);
  nullable('region_id', f.related('region_id', (id) => dataset.regions.has(id)), (p) => p.cached.regionId);
  nullable('site_group_id', f.related('site_group_id', (id) => dataset.siteGroups.has(id)), (p) => p.cached.siteGroupId);

  if (version.prefixHasScope) {
    const scopeType = first(query, 'scope_type');
    if (scopeType !== undefined) {
      // ContentTypeFilter: an unknown or malformed type matches nothing rather than erroring.
      const valid = (SCOPE_TYPES as readonly string[]).includes(scopeType);
      f.add((p) => valid && p.scopeType === (scopeType as ScopeType));
    }
    const scopeIds = f.numbers('scope_id');
    if (scopeIds) {
      const set = new Set(scopeIds);
      f.add((p) => p.scopeId !== null && set.has(p.scopeId));
    }
  }

  const statuses = query.status;
  if (statuses) f.add((p) => statuses.includes(p.status));
  const notStatuses = query.status__n;
  if (notStatuses) f.add((p) => !notStatuses.includes(p.status));
  const family = f.numbers('family');
  if (family) f.add((p) => family.includes(p.network.family));
  const masks = f.numbers('mask_length');
  if (masks) f.add((p) => masks.includes(p.network.length));
  f.exact('prefix', (p) => p.prefix);
  f.exact('description', (p) => p.description);
  const descIc = first(query, 'description__ic');
  if (descIc !== undefined) f.add((p) => p.description.toLowerCase().includes(descIc.toLowerCase()));

  const net = (key: string, test: (outer: ParsedCidr, p: PrefixRecord) => boolean) => {
    const v = first(query, key);
    if (v === undefined) return;
    const parsed = parseCidr(v.includes('/') ? v : `${v}/${v.includes(':') ? 128 : 32}`);
    if ('error' in parsed) {
      f.fail(key, `Invalid IP prefix format: ${v}`);
      return;
    }
    f.add((p) => test(parsed, p));
  };
  net('within', (outer, p) => strictlyContains(outer, p.network));
  net('within_include', (outer, p) => containsOrEquals(outer, p.network));
  net('contains', (inner, p) => containsOrEquals(p.network, inner));

  const q = first(query, 'q');
  if (q !== undefined && q.trim() !== '') {
    // PrefixFilterSet.search: description icontains, prefix text contains, or (if q is an
    // address/prefix) prefixes containing it.
    const needle = q.trim();
    const parsed = parseCidr(needle.includes('/') ? needle : `${needle}/${needle.includes(':') ? 128 : 32}`);
    const asNet = 'error' in parsed ? null : parsed;
    f.add(
      (p) =>
        p.description.toLowerCase().includes(needle.toLowerCase()) ||
        p.prefix.includes(needle) ||
        (asNet !== null && containsOrEquals(p.network, asNet)),
    );
  }
  return f;
}
