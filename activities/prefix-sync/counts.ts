/**
 * What a sync did, as counts. Pure data and pure functions: the workflows import this module too.
 */
export const SKIP_REASONS = [
  'unscoped',
  'nonSiteScope',
  'noMatchingNetworkSite',
  'filteredByRole',
  'conflictingBlock',
  'ownBlockOnAnotherSite',
  'changedDuringSync',
  /** NetBox gave a prefix whose CIDR cannot be read: skipped, so one bad row never blocks its page or queue. */
  'invalidPrefix',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface Conflict {
  prefixId: number;
  cidr: string;
  networkSite: string;
}

export interface SyncCounts {
  /** Prefixes looked at. */
  prefixes: number;
  created: number;
  updated: number;
  removed: number;
  alreadyPresent: number;
  skipped: Record<SkipReason, number>;
  /** NetBox site names with no gaiia Network Site of that exact name (first 100). */
  missingNetworkSites: string[];
  /** Prefixes left alone because a block with that CIDR on the site is not this prefix's (first 50). */
  conflicts: Conflict[];
}

const MAX_MISSING_SITES = 100;
const MAX_CONFLICTS = 50;

export function emptyCounts(): SyncCounts {
  return {
    prefixes: 0,
    created: 0,
    updated: 0,
    removed: 0,
    alreadyPresent: 0,
    skipped: Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>,
    missingNetworkSites: [],
    conflicts: [],
  };
}

export function addCounts(a: SyncCounts, b: SyncCounts): SyncCounts {
  const skipped = { ...a.skipped };
  for (const r of SKIP_REASONS) skipped[r] += b.skipped[r] ?? 0;
  return {
    prefixes: a.prefixes + b.prefixes,
    created: a.created + b.created,
    updated: a.updated + b.updated,
    removed: a.removed + b.removed,
    alreadyPresent: a.alreadyPresent + b.alreadyPresent,
    skipped,
    missingNetworkSites: [...new Set([...a.missingNetworkSites, ...b.missingNetworkSites])].slice(0, MAX_MISSING_SITES),
    conflicts: [...a.conflicts, ...b.conflicts].slice(0, MAX_CONFLICTS),
  };
}
