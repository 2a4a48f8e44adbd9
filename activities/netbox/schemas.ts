import { z } from 'zod';

/**
 * NetBox's REST and webhook shapes, with every version difference (4.1 → 4.7) in this one module.
 * Callers get plain, small objects (NetBoxPrefix, NetBoxRole, NetBoxStatus) and never see raw NetBox JSON.
 */

/** Where a prefix is scoped. Only a site scope maps to a gaiia Network Site. */
export type PrefixScope =
  | { kind: 'site'; siteId: number; siteName: string }
  | { kind: 'none' }
  | { kind: 'other'; scopeType: string };

export interface NetBoxPrefix {
  id: number;
  cidr: string;
  description: string;
  roleId: number | null;
  scope: PrefixScope;
  lastUpdated: string | null;
}

export interface NetBoxRole {
  id: number;
  name: string;
  slug: string;
}

export interface NetBoxStatus {
  /** e.g. "4.2.9" (4.3+ report the plain version; the full one is in `netbox-full-version`). */
  version: string;
  /** major.minor from the API-Version header or the version string. */
  apiVersion: string;
  /** 4.1 puts a `site` on prefixes; 4.2+ has `scope_type`/`scope`. */
  prefixShape: 'site' | 'scope';
}

const briefSite = z.object({ id: z.number().int(), name: z.string() });
const briefRole = z.object({ id: z.number().int(), name: z.string().optional(), slug: z.string().optional() });

const prefixCommon = {
  id: z.number().int(),
  prefix: z.string(),
  description: z.string().nullish(),
  role: briefRole.nullish(),
  last_updated: z.string().nullish(),
};

/** 4.1: `site` is a nested brief site or null. */
const prefixWithSite = z.object({ ...prefixCommon, site: briefSite.nullable() });

/**
 * 4.2+: `scope_type` is "dcim.site", "dcim.location", "dcim.region", "dcim.sitegroup" or null, and `scope`
 * is that object's brief form. Only a site's brief form is read; the others only need to be recognised.
 */
const prefixWithScope = z.object({
  ...prefixCommon,
  scope_type: z.string().nullable(),
  scope_id: z.number().int().nullish(),
  scope: z.object({ id: z.number().int(), name: z.string().optional() }).nullish(),
});

/** Reads one prefix in either shape; the shape is detected from the object itself, not assumed. */
export function parsePrefix(raw: unknown): NetBoxPrefix {
  const obj = (raw ?? {}) as Record<string, unknown>;
  if ('scope_type' in obj) {
    const p = prefixWithScope.parse(raw);
    let scope: PrefixScope;
    if (p.scope_type === null) scope = { kind: 'none' };
    else if (p.scope_type !== 'dcim.site') scope = { kind: 'other', scopeType: p.scope_type };
    else if (!p.scope?.name) {
      throw new z.ZodError([
        { code: 'custom', path: ['scope', 'name'], message: 'a site-scoped prefix must carry the site name in scope.name', input: p.scope },
      ]);
    } else scope = { kind: 'site', siteId: p.scope.id, siteName: p.scope.name };
    return toPrefix(p, scope);
  }
  if ('site' in obj) {
    const p = prefixWithSite.parse(raw);
    return toPrefix(p, p.site ? { kind: 'site', siteId: p.site.id, siteName: p.site.name } : { kind: 'none' });
  }
  throw new z.ZodError([
    { code: 'custom', path: ['site'], message: 'a prefix must have either `site` (NetBox 4.1) or `scope_type` (4.2+)', input: raw },
  ]);
}

function toPrefix(p: z.infer<typeof prefixWithSite> | z.infer<typeof prefixWithScope>, scope: PrefixScope): NetBoxPrefix {
  return {
    id: p.id,
    cidr: p.prefix,
    description: p.description ?? '',
    roleId: p.role?.id ?? null,
    scope,
    lastUpdated: p.last_updated ?? null,
  };
}

export const roleSchema = z.object({ id: z.number().int(), name: z.string(), slug: z.string() });

export function parseRole(raw: unknown): NetBoxRole {
  const r = roleSchema.parse(raw);
  return { id: r.id, name: r.name, slug: r.slug };
}

/** A NetBox list page. `count` is null with 4.6+ cursor paging. */
export const pageSchema = z.object({
  count: z.number().int().nullable(),
  next: z.string().nullable(),
  previous: z.string().nullable().optional(),
  results: z.array(z.unknown()),
});

const statusSchema = z.object({ 'netbox-version': z.string().min(1) });

export function parseStatus(raw: unknown, apiVersionHeader: string | undefined): NetBoxStatus {
  const s = statusSchema.parse(raw);
  const version = s['netbox-version'].trim();
  const fromVersion = /^(\d+)\.(\d+)/.exec(version);
  const apiVersion = apiVersionHeader?.trim() || (fromVersion ? `${fromVersion[1]}.${fromVersion[2]}` : '');
  const [major, minor] = apiVersion.split('.').map(Number);
  const prefixShape = major > 4 || (major === 4 && minor >= 2) ? 'scope' : 'site';
  return { version, apiVersion, prefixShape };
}

/** "scope.name: expected string" — names the field, for error messages. */
export function describeZodError(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
