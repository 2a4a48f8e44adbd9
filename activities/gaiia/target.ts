import ipaddr from 'ipaddr.js';

/**
 * The gaiia side as this integration uses it, shaped after gaiia's GraphQL API
 * (shared/reference/gaiia-api.md). The embedded target and the GraphQL adapter implement it.
 */
export interface NetworkSite {
  id: string;
  name: string;
}

export interface IpBlock {
  id: string;
  networkSiteId: string;
  block: string;
  description: string;
}

export interface IpBlockInput {
  block: string;
  description: string;
}

export interface GaiiaTarget {
  /** Sites whose name equals one of `names` exactly (case-sensitive); archived sites are left out. */
  findNetworkSitesByName(names: string[]): Promise<NetworkSite[]>;
  /**
   * The IP Blocks a batch needs to see: those with these ids, and those holding one of these CIDRs on
   * that site. (gaiia has no such filter: its adapter lists the sites' blocks and keeps these.)
   */
  findIpBlocks(query: { ids: string[]; placements: Array<{ networkSiteId: string; block: string }> }): Promise<IpBlock[]>;
  /**
   * Adds blocks to sites and returns them with their new ids. One entry per site, as gaiia's
   * `addIpBlocksToNetworkSite`; several sites go in one call so an adapter can send them together.
   */
  addIpBlocks(additions: Array<{ networkSiteId: string; blocks: IpBlockInput[] }>): Promise<IpBlock[]>;
  updateIpBlock(id: string, input: IpBlockInput): Promise<IpBlock>;
  /** Removes blocks from sites (gaiia's `removeIpBlocksFromNetworkSite`, one entry per site). */
  removeIpBlocks(removals: Array<{ networkSiteId: string; ipBlockIds: string[] }>): Promise<void>;
}

/** gaiia's mutation error codes, kept so callers can tell a conflict from a broken request. */
export type GaiiaErrorCode =
  | 'INVALID_IP_BLOCK'
  | 'BLOCK_ALREADY_EXISTS'
  | 'NETWORK_SITE_NOT_FOUND'
  | 'NETWORK_SITE_IP_BLOCK_NOT_FOUND'
  | 'INVALID_UPDATE';

export class GaiiaMutationError extends Error {
  constructor(
    readonly code: GaiiaErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'GaiiaMutationError';
  }
}

/** The canonical text of a CIDR (`2001:DB8:0::/32` → `2001:db8::/32`), or null when it is not one. */
export function canonicalCidr(text: string): string | null {
  const trimmed = text.trim();
  try {
    // Parse by family: ipaddr.parseCIDR tries IPv6 first, which costs a failed parse per IPv4 prefix.
    const [addr, bits] = trimmed.includes(':') ? ipaddr.IPv6.parseCIDR(trimmed) : ipaddr.IPv4.parseCIDR(trimmed);
    return `${addr.toString()}/${bits}`;
  } catch {
    return null;
  }
}
