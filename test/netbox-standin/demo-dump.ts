/**
 * Loads the NetBox demo data (pg_dump of netbox-demo-data, 4.1 and 4.2 schemas) into a NetBoxDataset.
 *
 * Only PostgreSQL `COPY ... FROM stdin;` blocks are read; columns are looked up by the names in each
 * COPY header, so column order differences between releases do not matter.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CustomFieldRecord,
  LocationRecord,
  makePrefixRecord,
  NetBoxDataset,
  PrefixRecord,
  RoleRecord,
  SCOPE_TYPES,
  ScopeType,
  SiteRecord,
  TenantRecord,
  TreeNodeRecord,
  VlanRecord,
  VrfRecord,
} from './model';

export type DemoDumpVersion = '4.1' | '4.2';

/** One COPY block: rows as column-name → text (null for `\N`). */
export type CopyRow = Record<string, string | null>;

const TABLES = [
  'django_content_type',
  'dcim_region',
  'dcim_sitegroup',
  'dcim_site',
  'dcim_location',
  'dcim_rack',
  'tenancy_tenant',
  'ipam_vlan',
  'ipam_vrf',
  'ipam_role',
  'ipam_prefix',
  'extras_customfield',
  'extras_customfield_object_types',
] as const;

export function demoDataDir(): string {
  return process.env.NETBOX_DEMO_DATA_DIR ?? path.resolve(__dirname, '../../../shared/netbox-demo-data');
}

/** Fails at once, naming the fix, when NetBox's demo dumps are not where this checkout expects them. */
export function requireDemoData(): void {
  const missing = (['4.1', '4.2'] as const).map(demoDumpPath).filter((f) => !existsSync(f));
  if (missing.length) {
    throw new Error(
      `NetBox's demo data is missing (${missing.join(', ')}): keep the checkout beside the shared/ folder ` +
        `(shared/netbox-demo-data), or set NETBOX_DEMO_DATA_DIR to the folder holding netbox-demo-v4.1.sql and netbox-demo-v4.2.sql`,
    );
  }
}

export function demoDumpPath(version: DemoDumpVersion): string {
  return path.join(demoDataDir(), `netbox-demo-v${version}.sql`);
}

/**
 * Extracts COPY blocks for the wanted tables, named `ipam_prefix` or `public.ipam_prefix`; the
 * result is keyed by the names as given. Values use PostgreSQL's text COPY format:
 * tab-separated, `\N` is NULL, backslash escapes (\t \n \r \\ \b \f \v, octal, \xHH).
 */
export function parseCopyBlocks(sql: string, tables: readonly string[]): Map<string, CopyRow[]> {
  const wanted = new Map(tables.map((t) => [t.replace(/^public\./, ''), t]));
  const result = new Map<string, CopyRow[]>();
  const lines = sql.split('\n');
  const header = /^COPY public\.(\w+) \(([^)]*)\) FROM stdin;$/;
  for (let i = 0; i < lines.length; i++) {
    const m = header.exec(lines[i]);
    const key = m ? wanted.get(m[1]) : undefined;
    if (!m || key === undefined) continue;
    const columns = m[2].split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    const rows: CopyRow[] = [];
    for (i++; i < lines.length && lines[i] !== '\\.'; i++) {
      const fields = lines[i].split('\t');
      if (fields.length !== columns.length) {
        throw new Error(`COPY public.${m[1]} line ${i + 1}: ${fields.length} fields for ${columns.length} columns`);
      }
      const row: CopyRow = {};
      columns.forEach((col, k) => {
        row[col] = fields[k] === '\\N' ? null : unescapeCopyText(fields[k]);
      });
      rows.push(row);
    }
    result.set(key, rows);
  }
  return result;
}

function unescapeCopyText(text: string): string {
  if (!text.includes('\\')) return text;
  const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
  return text.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, esc: string) => {
    if (esc[0] === 'x' && esc.length > 1) return String.fromCharCode(parseInt(esc.slice(1), 16));
    if (/^[0-7]+$/.test(esc)) return String.fromCharCode(parseInt(esc, 8));
    return simple[esc] ?? esc;
  });
}

const parsedDumps = new Map<string, Map<string, CopyRow[]>>();

function readDump(version: DemoDumpVersion): Map<string, CopyRow[]> {
  const file = demoDumpPath(version);
  let tables = parsedDumps.get(file);
  if (!tables) {
    let sql: string;
    try {
      sql = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(
        `cannot read NetBox demo dump ${file} (${(e as Error).message}); set NETBOX_DEMO_DATA_DIR to the folder holding netbox-demo-v${version}.sql`,
      );
    }
    tables = parseCopyBlocks(sql, TABLES);
    parsedDumps.set(file, tables);
  }
  return tables;
}

// ---- column readers ------------------------------------------------------------------------------

function str(row: CopyRow, col: string): string {
  return row[col] ?? '';
}

function int(row: CopyRow, col: string): number {
  const v = intOrNull(row, col);
  if (v === null) throw new Error(`column ${col} is NULL where an integer is required`);
  return v;
}

function intOrNull(row: CopyRow, col: string): number | null {
  const v = row[col];
  return v === null || v === undefined ? null : Number(v);
}

function floatOrNull(row: CopyRow, col: string): number | null {
  const v = row[col];
  return v === null || v === undefined ? null : Number(v);
}

function bool(row: CopyRow, col: string): boolean {
  return row[col] === 't';
}

/** `2020-12-30 15:00:02.45-05` → Date (sub-millisecond digits are dropped). */
function timestamp(row: CopyRow, col: string): Date {
  const v = row[col];
  if (!v) return new Date(0);
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2})(:?\d{2})?$/.exec(v);
  if (!m) throw new Error(`unrecognised timestamp '${v}' in column ${col}`);
  const frac = m[3] ? m[3].slice(0, 4).padEnd(4, '0') : '';
  const offsetMinutes = m[5] ? m[5].replace(':', '') : '00';
  return new Date(`${m[1]}T${m[2]}${frac}${m[4]}:${offsetMinutes}`);
}

function json(row: CopyRow, col: string): Record<string, unknown> {
  const v = row[col];
  return v ? (JSON.parse(v) as Record<string, unknown>) : {};
}

function common(row: CopyRow) {
  return {
    id: int(row, 'id'),
    created: timestamp(row, 'created'),
    lastUpdated: timestamp(row, 'last_updated'),
    customFieldData: json(row, 'custom_field_data'),
    tags: [] as string[],
  };
}

function treeNode(row: CopyRow): TreeNodeRecord {
  return {
    ...common(row),
    name: str(row, 'name'),
    slug: str(row, 'slug'),
    description: str(row, 'description'),
    parentId: intOrNull(row, 'parent_id'),
    level: int(row, 'level'),
  };
}

/**
 * Loads netbox-demo-v4.1.sql or -v4.2.sql. Returns a fresh dataset on every call (the parsed
 * dump is cached), so tests can mutate it freely.
 */
export function loadDemoDataset(version: DemoDumpVersion): NetBoxDataset {
  const tables = readDump(version);
  const rows = (name: string) => tables.get(name) ?? [];

  const contentTypes = new Map<number, string>(
    rows('django_content_type').map((r) => [int(r, 'id'), `${str(r, 'app_label')}.${str(r, 'model')}`]),
  );
  const dataset = new NetBoxDataset({ source: version, contentTypes });

  dataset.regions.load(rows('dcim_region').map(treeNode));
  dataset.siteGroups.load(rows('dcim_sitegroup').map(treeNode));
  dataset.tenants.load(
    rows('tenancy_tenant').map(
      (r): TenantRecord => ({ ...common(r), name: str(r, 'name'), slug: str(r, 'slug'), description: str(r, 'description') }),
    ),
  );
  dataset.sites.load(
    rows('dcim_site').map(
      (r): SiteRecord => ({
        ...common(r),
        name: str(r, 'name'),
        slug: str(r, 'slug'),
        status: str(r, 'status'),
        facility: str(r, 'facility'),
        timeZone: r.time_zone || null,
        description: str(r, 'description'),
        physicalAddress: str(r, 'physical_address'),
        shippingAddress: str(r, 'shipping_address'),
        latitude: floatOrNull(r, 'latitude'),
        longitude: floatOrNull(r, 'longitude'),
        comments: str(r, 'comments'),
        groupId: intOrNull(r, 'group_id'),
        regionId: intOrNull(r, 'region_id'),
        tenantId: intOrNull(r, 'tenant_id'),
      }),
    ),
  );
  dataset.locations.load(
    rows('dcim_location').map(
      (r): LocationRecord => ({
        ...treeNode(r),
        siteId: int(r, 'site_id'),
        tenantId: intOrNull(r, 'tenant_id'),
        status: str(r, 'status'),
        facility: str(r, 'facility'),
      }),
    ),
  );
  for (const rack of rows('dcim_rack')) {
    const location = intOrNull(rack, 'location_id');
    if (location !== null) dataset.rackCountByLocation.set(location, (dataset.rackCountByLocation.get(location) ?? 0) + 1);
  }
  dataset.vlans.load(
    rows('ipam_vlan').map(
      (r): VlanRecord => ({ ...common(r), vid: int(r, 'vid'), name: str(r, 'name'), description: str(r, 'description') }),
    ),
  );
  dataset.vrfs.load(
    rows('ipam_vrf').map(
      (r): VrfRecord => ({
        ...common(r),
        name: str(r, 'name'),
        rd: r.rd,
        enforceUnique: bool(r, 'enforce_unique'),
        description: str(r, 'description'),
        tenantId: intOrNull(r, 'tenant_id'),
        comments: str(r, 'comments'),
      }),
    ),
  );
  dataset.roles.load(
    rows('ipam_role').map(
      (r): RoleRecord => ({
        ...common(r),
        name: str(r, 'name'),
        slug: str(r, 'slug'),
        weight: int(r, 'weight'),
        description: str(r, 'description'),
        comments: str(r, 'comments'),
      }),
    ),
  );

  const cfObjectTypes = new Map<number, string[]>();
  for (const r of rows('extras_customfield_object_types')) {
    const label = contentTypes.get(int(r, 'objecttype_id'));
    if (label) cfObjectTypes.set(int(r, 'customfield_id'), [...(cfObjectTypes.get(int(r, 'customfield_id')) ?? []), label]);
  }
  dataset.customFields.load(
    rows('extras_customfield').map(
      (r): CustomFieldRecord => ({
        id: int(r, 'id'),
        created: timestamp(r, 'created'),
        lastUpdated: timestamp(r, 'last_updated'),
        name: str(r, 'name'),
        label: str(r, 'label'),
        type: str(r, 'type'),
        objectTypes: cfObjectTypes.get(int(r, 'id')) ?? [],
        groupName: str(r, 'group_name'),
        description: str(r, 'description'),
        required: bool(r, 'required'),
        unique: bool(r, 'unique'),
        filterLogic: str(r, 'filter_logic') || 'loose',
        default: r.default === null ? null : JSON.parse(r.default),
        weight: int(r, 'weight'),
        searchWeight: int(r, 'search_weight'),
        validationMinimum: intOrNull(r, 'validation_minimum'),
        validationMaximum: intOrNull(r, 'validation_maximum'),
        validationRegex: str(r, 'validation_regex'),
        uiVisible: str(r, 'ui_visible') || 'always',
        uiEditable: str(r, 'ui_editable') || 'yes',
        isCloneable: bool(r, 'is_cloneable'),
        comments: str(r, 'comments'),
      }),
    ),
  );

  dataset.loadPrefixes(rows('ipam_prefix').map((r) => prefixFromRow(dataset, r, contentTypes)));
  return dataset;
}

function prefixFromRow(dataset: NetBoxDataset, r: CopyRow, contentTypes: Map<number, string>): PrefixRecord {
  let scopeType: ScopeType | null = null;
  let scopeId: number | null = null;
  if ('scope_type_id' in r) {
    // 4.2+: generic scope.
    const typeId = intOrNull(r, 'scope_type_id');
    if (typeId !== null) {
      const label = contentTypes.get(typeId);
      if (!label || !(SCOPE_TYPES as readonly string[]).includes(label)) {
        throw new Error(`prefix ${str(r, 'id')} has scope_type_id ${typeId} (${label ?? 'unknown'}), not a prefix scope type`);
      }
      scopeType = label as ScopeType;
      scopeId = intOrNull(r, 'scope_id');
    }
  } else {
    // 4.1: Prefix.site, normalized to a dcim.site scope.
    const siteId = intOrNull(r, 'site_id');
    if (siteId !== null) {
      scopeType = 'dcim.site';
      scopeId = siteId;
    }
  }
  return makePrefixRecord(dataset, int(r, 'id'), {
    prefix: str(r, 'prefix'),
    status: str(r, 'status'),
    isPool: bool(r, 'is_pool'),
    markUtilized: bool(r, 'mark_utilized'),
    description: str(r, 'description'),
    comments: str(r, 'comments'),
    roleId: intOrNull(r, 'role_id'),
    tenantId: intOrNull(r, 'tenant_id'),
    vlanId: intOrNull(r, 'vlan_id'),
    vrfId: intOrNull(r, 'vrf_id'),
    scopeType,
    scopeId,
    children: int(r, '_children'),
    depth: int(r, '_depth'),
    customFieldData: json(r, 'custom_field_data'),
    created: timestamp(r, 'created'),
    lastUpdated: timestamp(r, 'last_updated'),
  });
}
