import type { NetBoxPrefix } from '../netbox/schemas';
import { canonicalCidr } from '../gaiia/target';
import type { SkipReason } from './counts';

/** The IP Block a prefix should have, or why it should have none. */
export type DesiredBlock =
  | { kind: 'block'; networkSiteName: string; block: string; description: string }
  | { kind: 'skip'; reason: Exclude<SkipReason, 'noMatchingNetworkSite' | 'conflictingBlock' | 'ownBlockOnAnotherSite'> };

/**
 * The sync rules in one place: only site-scoped prefixes; the gaiia Network Site is found by the exact
 * NetBox site name; with a role filter only prefixes holding one of those roles qualify, and without one
 * every prefix (with a role or none) does.
 */
export function desiredBlockFor(prefix: NetBoxPrefix, roleFilter: readonly number[]): DesiredBlock {
  if (roleFilter.length > 0 && (prefix.roleId === null || !roleFilter.includes(prefix.roleId))) {
    return { kind: 'skip', reason: 'filteredByRole' };
  }
  if (prefix.scope.kind === 'none') return { kind: 'skip', reason: 'unscoped' };
  if (prefix.scope.kind === 'other') return { kind: 'skip', reason: 'nonSiteScope' };
  // gaiia refuses what is not a CIDR; sending it would fail the whole page (or real-time batch) on every retry.
  const block = canonicalCidr(prefix.cidr);
  if (block === null) return { kind: 'skip', reason: 'invalidPrefix' };
  return {
    kind: 'block',
    networkSiteName: prefix.scope.siteName,
    block,
    description: prefix.description,
  };
}
