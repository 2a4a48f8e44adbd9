/**
 * Deterministic synthetic NetBox data for benchmarks (e.g. 100,000 prefixes over 1,000 sites).
 *
 * The mix follows what a real ISP NetBox looks like: ~85% of prefixes scoped to a site, ~8%
 * unscoped, the rest scoped to locations or regions; most prefixes carry a role. Same options and
 * seed always give the same dataset.
 */
import ipaddr from 'ipaddr.js';
import {
  LocationRecord,
  makePrefixRecord,
  NetBoxDataset,
  PrefixRecord,
  RoleRecord,
  ScopeType,
  SiteRecord,
  TreeNodeRecord,
  VrfRecord,
} from './model';

export interface GenerateOptions {
  prefixes: number;
  sites: number;
  /** Number of IPAM roles (default 8). */
  roles?: number;
  seed?: number;
}

const ROLE_NAMES = ['Access - Data', 'Access - Voice', 'Management', 'Loopback', 'Transit', 'Customer', 'Infrastructure', 'Reserved'];
const STATUSES: Array<[string, number]> = [
  ['active', 0.9],
  ['reserved', 0.05],
  ['deprecated', 0.03],
  ['container', 0.02],
];
const BASE_TIME = Date.UTC(2024, 0, 1);

/** mulberry32: small, fast, deterministic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The i-th generated network: /27s through 10.0.0.0/8, then /64s in 2001:db8::/32. */
function nthNetwork(i: number): string {
  const IPV4_SLOTS = 1 << 19; // 10.0.0.0/8 holds 2^19 /27s
  if (i < IPV4_SLOTS) {
    const n = i * 32;
    return `10.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}/27`;
  }
  const k = i - IPV4_SLOTS;
  const parts = [0x2001, 0x0db8, (k >>> 16) & 0xffff, k & 0xffff, 0, 0, 0, 0];
  return `${new ipaddr.IPv6(parts).toString()}/64`;
}

export function generateDataset(opts: GenerateOptions): NetBoxDataset {
  if (!Number.isInteger(opts.prefixes) || opts.prefixes < 0) throw new Error('generateDataset: prefixes must be an integer ≥ 0');
  if (!Number.isInteger(opts.sites) || opts.sites < 1) throw new Error('generateDataset: sites must be an integer ≥ 1');
  const rand = seededRandom(opts.seed ?? 1);
  const dataset = new NetBoxDataset({ source: 'generated' });
  const at = (offsetSeconds: number) => new Date(BASE_TIME + offsetSeconds * 1000);
  const base = (id: number, t: number) => ({ id, created: at(t), lastUpdated: at(t), customFieldData: {}, tags: [] as string[] });

  const regionCount = Math.max(1, Math.ceil(opts.sites / 50));
  const regions: TreeNodeRecord[] = [];
  for (let i = 1; i <= regionCount; i++) {
    const parentId = i <= 3 ? null : ((i - 1) % 3) + 1;
    regions.push({ ...base(i, i), name: `Region ${i}`, slug: `region-${i}`, description: '', parentId, level: parentId ? 1 : 0 });
  }
  dataset.regions.load(regions);
  dataset.siteGroups.load(
    ['Core', 'Distribution', 'Access', 'Customer Premises', 'Lab'].map((name, k) => ({
      ...base(k + 1, k),
      name,
      slug: name.toLowerCase().replace(/ /g, '-'),
      description: '',
      parentId: null,
      level: 0,
    })),
  );

  const sites: SiteRecord[] = [];
  for (let i = 1; i <= opts.sites; i++) {
    const name = `SITE-${String(i).padStart(5, '0')}`;
    sites.push({
      ...base(i, 100 + i),
      name,
      slug: name.toLowerCase(),
      status: rand() < 0.95 ? 'active' : 'planned',
      facility: '',
      timeZone: null,
      description: `Generated site ${i}`,
      physicalAddress: '',
      shippingAddress: '',
      latitude: null,
      longitude: null,
      comments: '',
      groupId: 1 + Math.floor(rand() * 5),
      regionId: 1 + Math.floor(rand() * regionCount),
      tenantId: null,
    });
  }
  dataset.sites.load(sites);

  const locationCount = Math.max(1, Math.ceil(opts.sites / 4));
  const locations: LocationRecord[] = [];
  for (let i = 1; i <= locationCount; i++) {
    locations.push({
      ...base(i, 10_000 + i),
      name: `Floor ${i}`,
      slug: `floor-${i}`,
      description: '',
      parentId: null,
      level: 0,
      siteId: ((i - 1) * 4) % opts.sites + 1,
      tenantId: null,
      status: 'active',
      facility: '',
    });
  }
  dataset.locations.load(locations);

  const roleCount = opts.roles ?? 8;
  const roles: RoleRecord[] = [];
  for (let i = 1; i <= roleCount; i++) {
    const name = ROLE_NAMES[i - 1] ?? `Role ${i}`;
    roles.push({ ...base(i, 20_000 + i), name, slug: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'), weight: 1000, description: '', comments: '' });
  }
  dataset.roles.load(roles);

  const vrfs: VrfRecord[] = ['Customers', 'Management', 'Transit'].map((name, k) => ({
    ...base(k + 1, 30_000 + k),
    name,
    rd: `65000:${(k + 1) * 100}`,
    enforceUnique: false,
    description: '',
    tenantId: null,
    comments: '',
  }));
  dataset.vrfs.load(vrfs);

  const prefixes: PrefixRecord[] = [];
  for (let i = 0; i < opts.prefixes; i++) {
    const r = rand();
    let scopeType: ScopeType | null = null;
    let scopeId: number | null = null;
    if (r < 0.85) {
      scopeType = 'dcim.site';
      scopeId = 1 + Math.floor(rand() * opts.sites);
    } else if (r < 0.93) {
      // unscoped
    } else if (r < 0.97) {
      scopeType = 'dcim.location';
      scopeId = 1 + Math.floor(rand() * locationCount);
    } else {
      scopeType = 'dcim.region';
      scopeId = 1 + Math.floor(rand() * regionCount);
    }
    const roleId = roleCount > 0 && rand() < 0.8 ? 1 + Math.floor(rand() * roleCount) : null;
    const vrfId = rand() < 0.1 ? 1 + Math.floor(rand() * vrfs.length) : null;
    const t = 40_000 + i;
    prefixes.push(
      makePrefixRecord(dataset, i + 1, {
        prefix: nthNetwork(i),
        status: pickWeighted(STATUSES, rand()),
        description: `Generated prefix ${i + 1}`,
        roleId,
        vrfId,
        scopeType,
        scopeId,
        created: at(t),
        lastUpdated: at(t),
      }),
    );
  }
  dataset.loadPrefixes(prefixes, { rebuildHierarchy: true });
  return dataset;
}

function pickWeighted(choices: Array<[string, number]>, r: number): string {
  let acc = 0;
  for (const [value, weight] of choices) {
    acc += weight;
    if (r < acc) return value;
  }
  return choices[choices.length - 1][0];
}
