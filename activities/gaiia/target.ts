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
  /** Every IP Block on these sites. */
  listIpBlocks(networkSiteIds: string[]): Promise<IpBlock[]>;
  /** Adds blocks to one site and returns them with their new ids. */
  addIpBlocks(networkSiteId: string, blocks: IpBlockInput[]): Promise<IpBlock[]>;
  updateIpBlock(id: string, input: IpBlockInput): Promise<IpBlock>;
  removeIpBlocks(networkSiteId: string, ipBlockIds: string[]): Promise<void>;
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
  try {
    const [addr, bits] = ipaddr.parseCIDR(text.trim());
    return `${addr.toString()}/${bits}`;
  } catch {
    return null;
  }
}
