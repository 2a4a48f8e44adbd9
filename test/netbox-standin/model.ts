/**
 * The stand-in's in-memory NetBox database: plain records (camelCase, foreign keys as ids) in
 * id-ordered tables, plus the indexes the API needs to stay fast on 100k prefixes.
 *
 * Records are version-neutral. A 4.1 prefix's `site_id` is stored as scope `dcim.site`; shapes.ts
 * decides how a record looks for the NetBox version being served.
 */
import { compareCidr, mustParseCidr, ParsedCidr, strictlyContains } from './cidr';

export type ScopeType = 'dcim.site' | 'dcim.location' | 'dcim.region' | 'dcim.sitegroup';
export const SCOPE_TYPES: readonly ScopeType[] = ['dcim.site', 'dcim.location', 'dcim.region', 'dcim.sitegroup'];

/** Where a dataset came from; rendering follows the served version, not this. */
export type DatasetSource = '4.1' | '4.2' | 'generated' | 'empty';

export type CustomFieldData = Record<string, unknown>;

interface ChangeLogged {
  id: number;
  created: Date;
  lastUpdated: Date;
}

interface NetBoxObject extends ChangeLogged {
  customFieldData: CustomFieldData;
  tags: string[];
}

export interface SiteRecord extends NetBoxObject {
  name: string;
  slug: string;
  status: string;
  facility: string;
  timeZone: string | null;
  description: string;
  physicalAddress: string;
  shippingAddress: string;
  latitude: number | null;
  longitude: number | null;
  comments: string;
  groupId: number | null;
  regionId: number | null;
  tenantId: number | null;
}

/** NetBox's hidden cached scope columns (`_site`, `_location`, `_region`, `_site_group`). */
export interface CachedScope {
  siteId: number | null;
  locationId: number | null;
  regionId: number | null;
  siteGroupId: number | null;
}

export interface PrefixRecord extends NetBoxObject {
  prefix: string;
  network: ParsedCidr;
  status: string;
  isPool: boolean;
  markUtilized: boolean;
  description: string;
  comments: string;
  roleId: number | null;
  tenantId: number | null;
  vlanId: number | null;
  vrfId: number | null;
  scopeType: ScopeType | null;
  scopeId: number | null;
  cached: CachedScope;
  /** Cached hierarchy columns `_children` and `_depth`. */
  children: number;
  depth: number;
}

export interface RoleRecord extends NetBoxObject {
  name: string;
  slug: string;
  weight: number;
  description: string;
  comments: string;
}

export interface VrfRecord extends NetBoxObject {
  name: string;
  rd: string | null;
  enforceUnique: boolean;
  description: string;
  tenantId: number | null;
  comments: string;
}

/** Regions and site groups are trees of the same shape. */
export interface TreeNodeRecord extends NetBoxObject {
  name: string;
  slug: string;
  description: string;
  parentId: number | null;
  level: number;
}

export interface LocationRecord extends TreeNodeRecord {
  siteId: number;
  tenantId: number | null;
  status: string;
  facility: string;
}

export interface TenantRecord extends NetBoxObject {
  name: string;
  slug: string;
  description: string;
}

export interface VlanRecord extends NetBoxObject {
  vid: number;
  name: string;
  description: string;
}

export interface WebhookRecord extends NetBoxObject {
  name: string;
  description: string;
  payloadUrl: string;
  httpMethod: string;
  httpContentType: string;
  additionalHeaders: string;
  bodyTemplate: string;
  secret: string;
  sslVerification: boolean;
  caFilePath: string | null;
  /** 4.7+ only; null means WEBHOOK_DEFAULT_TIMEOUT. */
  timeout: number | null;
}

export interface EventRuleRecord extends NetBoxObject {
  name: string;
  description: string;
  objectTypes: string[];
  enabled: boolean;
  eventTypes: string[];
  conditions: unknown;
  actionType: string;
  actionObjectType: string;
  actionObjectId: number | null;
}

export interface CustomFieldRecord extends ChangeLogged {
  name: string;
  label: string;
  type: string;
  objectTypes: string[];
  groupName: string;
  description: string;
  required: boolean;
  unique: boolean;
  filterLogic: string;
  default: unknown;
  weight: number;
  searchWeight: number;
  validationMinimum: number | null;
  validationMaximum: number | null;
  validationRegex: string;
  uiVisible: string;
  uiEditable: string;
  isCloneable: boolean;
  comments: string;
}

/** A table keyed by id. Map insertion order is kept equal to id order, so listing is O(n) without sorting. */
export class Table<T extends { id: number }> {
  private rows = new Map<number, T>();
  private ordered: T[] | null = null;
  private next = 1;
  /** Bumped on every write, for caches derived from this table. */
  revision = 0;

  get size(): number {
    return this.rows.size;
  }

  get nextId(): number {
    return this.next;
  }

  get(id: number): T | undefined {
    return this.rows.get(id);
  }

  has(id: number): boolean {
    return this.rows.has(id);
  }

  /** Rows sorted by id (cached until the next write). */
  all(): T[] {
    if (!this.ordered) this.ordered = Array.from(this.rows.values());
    return this.ordered;
  }

  /** Loads rows with ids already assigned; they are sorted so insertion order stays id order. */
  load(rows: T[]): void {
    const sorted = [...rows].sort((a, b) => a.id - b.id);
    const last = this.all().at(-1)?.id ?? 0;
    if (sorted.length && sorted[0].id <= last) {
      throw new Error(`Table.load: ids must be greater than existing ids (got ${sorted[0].id} after ${last})`);
    }
    for (const row of sorted) this.rows.set(row.id, row);
    this.next = Math.max(this.next, (sorted.at(-1)?.id ?? 0) + 1);
    this.ordered = null;
    this.revision++;
  }

  insert(make: (id: number) => T): T {
    const row = make(this.next++);
    this.rows.set(row.id, row);
    this.ordered = null;
    this.revision++;
    return row;
  }

  /** Replaces a row in place (same id, same position). */
  replace(row: T): void {
    if (!this.rows.has(row.id)) throw new Error(`Table.replace: no row ${row.id}`);
    this.rows.set(row.id, row);
    this.ordered = null;
    this.revision++;
  }

  delete(id: number): T | undefined {
    const row = this.rows.get(id);
    if (row) {
      this.rows.delete(id);
      this.ordered = null;
    this.revision++;
    }
    return row;
  }
}

/** Content type ids as in the demo dumps (django_content_type); generated datasets reuse them. */
export const DEFAULT_CONTENT_TYPES: Record<string, number> = {
  'dcim.location': 42,
  'dcim.region': 56,
  'dcim.site': 57,
  'dcim.sitegroup': 58,
  'ipam.prefix': 70,
  'ipam.role': 72,
  'ipam.vrf': 74,
  'ipam.vlan': 76,
  'extras.webhook': 90,
  'extras.customfield': 97,
  'tenancy.tenant': 110,
  'extras.eventrule': 137,
};

export interface DatasetInit {
  source: DatasetSource;
  contentTypes?: Map<number, string>;
}

/**
 * One NetBox's worth of objects. Mutating methods here keep indexes and cached columns right but
 * know nothing about REST, permissions or events (see operations.ts for those).
 */
export class NetBoxDataset {
  readonly source: DatasetSource;
  readonly contentTypesById: Map<number, string>;
  readonly contentTypeIds: Map<string, number>;

  readonly sites = new Table<SiteRecord>();
  readonly prefixes = new Table<PrefixRecord>();
  readonly roles = new Table<RoleRecord>();
  readonly vrfs = new Table<VrfRecord>();
  readonly locations = new Table<LocationRecord>();
  readonly regions = new Table<TreeNodeRecord>();
  readonly siteGroups = new Table<TreeNodeRecord>();
  readonly tenants = new Table<TenantRecord>();
  readonly vlans = new Table<VlanRecord>();
  readonly webhooks = new Table<WebhookRecord>();
  readonly eventRules = new Table<EventRuleRecord>();
  readonly customFields = new Table<CustomFieldRecord>();
  /** dcim_rack counts per location, for the location brief's `rack_count`. */
  readonly rackCountByLocation = new Map<number, number>();

  /** Bumped on every prefix write; list views cache sorted/filtered arrays against it. */
  prefixRevision = 0;

  private prefixesBySite = new Map<number, Set<number>>();
  private prefixesByRole = new Map<number, Set<number>>();
  private countsRevision = -1;
  private counts = { byVrf: new Map<number, number>(), bySite: new Map<number, number>(), byRole: new Map<number, number>() };

  constructor(init: DatasetInit) {
    this.source = init.source;
    this.contentTypesById = init.contentTypes ?? new Map(Object.entries(DEFAULT_CONTENT_TYPES).map(([k, v]) => [v, k]));
    this.contentTypeIds = new Map(Array.from(this.contentTypesById, ([id, label]) => [label, id]));
  }

  contentTypeId(label: string): number {
    const id = this.contentTypeIds.get(label);
    if (id === undefined) throw new Error(`content type '${label}' is not in this dataset's django_content_type`);
    return id;
  }

  // ---- Scope ---------------------------------------------------------------------------------

  scopeExists(type: ScopeType, id: number): boolean {
    return this.scopeTable(type).has(id);
  }

  private scopeTable(type: ScopeType): Table<{ id: number }> {
    switch (type) {
      case 'dcim.site':
        return this.sites;
      case 'dcim.location':
        return this.locations;
      case 'dcim.region':
        return this.regions;
      case 'dcim.sitegroup':
        return this.siteGroups;
    }
  }

  /** What NetBox's CachedScopeMixin.cache_related_objects() stores for a scope (4.2+). */
  cacheScope(type: ScopeType | null, id: number | null): CachedScope {
    const none: CachedScope = { siteId: null, locationId: null, regionId: null, siteGroupId: null };
    if (type === null || id === null) return none;
    switch (type) {
      case 'dcim.region':
        return { ...none, regionId: id };
      case 'dcim.sitegroup':
        return { ...none, siteGroupId: id };
      case 'dcim.site': {
        const site = this.sites.get(id);
        return { ...none, siteId: id, regionId: site?.regionId ?? null, siteGroupId: site?.groupId ?? null };
      }
      case 'dcim.location': {
        const location = this.locations.get(id);
        const site = location ? this.sites.get(location.siteId) : undefined;
        return {
          locationId: id,
          siteId: location?.siteId ?? null,
          regionId: site?.regionId ?? null,
          siteGroupId: site?.groupId ?? null,
        };
      }
    }
  }

  // ---- Prefix writes (keep indexes and cached columns right) ------------------------------------

  /** Bulk load (dump or generator). Hierarchy columns are taken as given unless `rebuildHierarchy`. */
  loadPrefixes(rows: PrefixRecord[], opts: { rebuildHierarchy?: boolean } = {}): void {
    this.prefixes.load(rows);
    for (const row of rows) this.index(row);
    if (opts.rebuildHierarchy) this.rebuildHierarchy();
    this.prefixRevision++;
  }

  insertPrefix(make: (id: number) => PrefixRecord): PrefixRecord {
    const row = this.prefixes.insert(make);
    this.index(row);
    this.attachToHierarchy(row);
    this.prefixRevision++;
    return row;
  }

  /** Replaces a prefix (same id). `next` must be a new object: the old one may be held by events. */
  replacePrefix(next: PrefixRecord): void {
    const prev = this.prefixes.get(next.id);
    if (!prev) throw new Error(`no prefix ${next.id}`);
    this.unindex(prev);
    const moved = prev.prefix !== next.prefix || prev.vrfId !== next.vrfId;
    if (moved) this.detachFromHierarchy(prev);
    this.prefixes.replace(next);
    this.index(next);
    if (moved) this.attachToHierarchy(next);
    this.prefixRevision++;
  }

  removePrefix(id: number): PrefixRecord | undefined {
    const row = this.prefixes.get(id);
    if (!row) return undefined;
    this.unindex(row);
    this.detachFromHierarchy(row);
    this.prefixes.delete(id);
    this.prefixRevision++;
    return row;
  }

  /** Prefix ids whose cached `_site` is this site (scoped to it or to one of its locations). */
  prefixIdsInSite(siteId: number): number[] {
    return Array.from(this.prefixesBySite.get(siteId) ?? []).sort((a, b) => a - b);
  }

  prefixIdsWithRole(roleId: number): number[] {
    return Array.from(this.prefixesByRole.get(roleId) ?? []).sort((a, b) => a - b);
  }

  private index(row: PrefixRecord): void {
    if (row.cached.siteId !== null) addTo(this.prefixesBySite, row.cached.siteId, row.id);
    if (row.roleId !== null) addTo(this.prefixesByRole, row.roleId, row.id);
  }

  private unindex(row: PrefixRecord): void {
    if (row.cached.siteId !== null) this.prefixesBySite.get(row.cached.siteId)?.delete(row.id);
    if (row.roleId !== null) this.prefixesByRole.get(row.roleId)?.delete(row.id);
  }

  /** Re-caches scope columns of prefixes scoped under a site (after the site's region/group changes). */
  recacheScopesForSite(siteId: number): void {
    for (const id of this.prefixIdsInSite(siteId)) {
      const row = this.prefixes.get(id)!;
      const cached = this.cacheScope(row.scopeType, row.scopeId);
      this.prefixes.replace({ ...row, cached });
    }
    this.prefixRevision++;
  }

  // ---- Hierarchy (`_depth` = strict supernets, `_children` = strict subnets, same VRF) -----------

  private sameTable(row: PrefixRecord): PrefixRecord[] {
    return this.prefixes.all().filter((p) => p.vrfId === row.vrfId && p.id !== row.id);
  }

  private attachToHierarchy(row: PrefixRecord): void {
    let depth = 0;
    let children = 0;
    for (const other of this.sameTable(row)) {
      if (strictlyContains(other.network, row.network)) {
        depth++;
        other.children++;
      } else if (strictlyContains(row.network, other.network)) {
        children++;
        other.depth++;
      }
    }
    row.depth = depth;
    row.children = children;
  }

  private detachFromHierarchy(row: PrefixRecord): void {
    for (const other of this.sameTable(row)) {
      if (strictlyContains(other.network, row.network)) other.children--;
      else if (strictlyContains(row.network, other.network)) other.depth--;
    }
  }

  /** O(n log n) recomputation: sort each VRF's prefixes in network order and walk with a stack. */
  rebuildHierarchy(): void {
    const byVrf = new Map<number | null, PrefixRecord[]>();
    for (const p of this.prefixes.all()) {
      p.depth = 0;
      p.children = 0;
      const list = byVrf.get(p.vrfId) ?? [];
      list.push(p);
      byVrf.set(p.vrfId, list);
    }
    for (const list of byVrf.values()) {
      list.sort((a, b) => compareCidr(a.network, b.network));
      const stack: PrefixRecord[] = [];
      for (const p of list) {
        while (stack.length && !strictlyContains(stack[stack.length - 1].network, p.network)) stack.pop();
        p.depth = stack.length;
        for (const ancestor of stack) ancestor.children++;
        stack.push(p);
      }
    }
  }

  // ---- Related-object counts (site/role/vrf briefs and full shapes) ------------------------------

  private refreshCounts(): void {
    if (this.countsRevision === this.prefixRevision) return;
    const byVrf = new Map<number, number>();
    const bySite = new Map<number, number>();
    const byRole = new Map<number, number>();
    for (const p of this.prefixes.all()) {
      if (p.vrfId !== null) byVrf.set(p.vrfId, (byVrf.get(p.vrfId) ?? 0) + 1);
      if (p.cached.siteId !== null) bySite.set(p.cached.siteId, (bySite.get(p.cached.siteId) ?? 0) + 1);
      if (p.roleId !== null) byRole.set(p.roleId, (byRole.get(p.roleId) ?? 0) + 1);
    }
    this.counts = { byVrf, bySite, byRole };
    this.countsRevision = this.prefixRevision;
  }

  prefixCountForVrf(id: number): number {
    this.refreshCounts();
    return this.counts.byVrf.get(id) ?? 0;
  }

  prefixCountForSite(id: number): number {
    this.refreshCounts();
    return this.counts.bySite.get(id) ?? 0;
  }

  prefixCountForRole(id: number): number {
    this.refreshCounts();
    return this.counts.byRole.get(id) ?? 0;
  }

  private siteCountCache = { key: '', counts: new Map<string, number>() };

  /** Sites in a region or site group including descendants (NetBox's cumulative `site_count`). */
  siteCountUnder(kind: 'region' | 'sitegroup', id: number): number {
    const key = `${this.sites.revision}/${this.regions.revision}/${this.siteGroups.revision}`;
    if (this.siteCountCache.key !== key) this.siteCountCache = { key, counts: new Map() };
    const cacheKey = `${kind}:${id}`;
    let count = this.siteCountCache.counts.get(cacheKey);
    if (count === undefined) {
      count = this.countSitesUnder(kind, id);
      this.siteCountCache.counts.set(cacheKey, count);
    }
    return count;
  }

  private countSitesUnder(kind: 'region' | 'sitegroup', id: number): number {
    const table = kind === 'region' ? this.regions : this.siteGroups;
    const ids = new Set<number>([id]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const node of table.all()) {
        if (node.parentId !== null && ids.has(node.parentId) && !ids.has(node.id)) {
          ids.add(node.id);
          grew = true;
        }
      }
    }
    let count = 0;
    for (const site of this.sites.all()) {
      const key = kind === 'region' ? site.regionId : site.groupId;
      if (key !== null && ids.has(key)) count++;
    }
    return count;
  }

  private customFieldCache = { revision: -1, byType: new Map<string, CustomFieldRecord[]>() };

  /** Custom fields that apply to an object type, in NetBox's order (group_name, weight, name). */
  customFieldsFor(objectType: string): CustomFieldRecord[] {
    if (this.customFieldCache.revision !== this.customFields.revision) {
      this.customFieldCache = { revision: this.customFields.revision, byType: new Map() };
    }
    let fields = this.customFieldCache.byType.get(objectType);
    if (!fields) {
      fields = this.customFields
        .all()
        .filter((cf) => cf.objectTypes.includes(objectType))
        .sort((a, b) => a.groupName.localeCompare(b.groupName) || a.weight - b.weight || a.name.localeCompare(b.name));
      this.customFieldCache.byType.set(objectType, fields);
    }
    return fields;
  }
}

function addTo(map: Map<number, Set<number>>, key: number, value: number): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

/** Builds a prefix record with defaults; used by the dump loader, the generator and operations. */
export function makePrefixRecord(
  dataset: NetBoxDataset,
  id: number,
  fields: Partial<Omit<PrefixRecord, 'id' | 'network' | 'cached'>> & { prefix: string; created: Date; lastUpdated: Date },
): PrefixRecord {
  const network = mustParseCidr(fields.prefix);
  const scopeType = fields.scopeType ?? null;
  const scopeId = scopeType === null ? null : fields.scopeId ?? null;
  return {
    id,
    prefix: network.text,
    network,
    status: fields.status ?? 'active',
    isPool: fields.isPool ?? false,
    markUtilized: fields.markUtilized ?? false,
    description: fields.description ?? '',
    comments: fields.comments ?? '',
    roleId: fields.roleId ?? null,
    tenantId: fields.tenantId ?? null,
    vlanId: fields.vlanId ?? null,
    vrfId: fields.vrfId ?? null,
    scopeType,
    scopeId,
    cached: dataset.cacheScope(scopeType, scopeId),
    children: fields.children ?? 0,
    depth: fields.depth ?? 0,
    customFieldData: fields.customFieldData ?? {},
    tags: fields.tags ?? [],
    created: fields.created,
    lastUpdated: fields.lastUpdated,
  };
}
