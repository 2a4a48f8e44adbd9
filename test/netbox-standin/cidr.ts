/**
 * CIDR parsing and PostgreSQL `cidr` ordering, which is what NetBox's default prefix ordering and
 * hierarchy (`_depth`, `_children`) are computed from.
 */
import ipaddr from 'ipaddr.js';

export interface ParsedCidr {
  family: 4 | 6;
  /** Network address bytes (host bits zero). */
  bytes: number[];
  length: number;
  /** Canonical text, e.g. `10.0.0.0/8`, `2001:db8::/32`. */
  text: string;
}

/**
 * Parses `a.b.c.d/len` or an IPv6 CIDR. Returns an error message in NetBox's words when the value is
 * not a prefix at all.
 */
export function parseCidr(value: string): ParsedCidr | { error: string } {
  if (typeof value !== 'string' || !value.includes('/')) {
    return { error: `Invalid IP prefix format: ${String(value)}` };
  }
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  let length: number;
  try {
    // Pick the family up front: ipaddr.parseCIDR tries IPv6 first and throws for every IPv4 value.
    [addr, length] = value.includes(':') ? ipaddr.IPv6.parseCIDR(value.trim()) : ipaddr.IPv4.parseCIDR(value.trim());
  } catch {
    return { error: `Invalid IP prefix format: ${value}` };
  }
  const bytes = addr.toByteArray();
  const family: 4 | 6 = addr.kind() === 'ipv4' ? 4 : 6;
  // NetBox's Prefix.save() clears host bits (10.0.0.1/8 is stored as 10.0.0.0/8) rather than
  // rejecting them (ipam/models/ip.py), so normalize here too.
  const masked = maskBytes(bytes, length);
  return { family, bytes: masked, length, text: formatCidr(family, masked, length) };
}

export function mustParseCidr(value: string): ParsedCidr {
  const parsed = parseCidr(value);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
}

function maskBytes(bytes: number[], length: number): number[] {
  return bytes.map((b, i) => {
    const bitsHere = Math.max(0, Math.min(8, length - i * 8));
    const mask = bitsHere === 0 ? 0 : (0xff << (8 - bitsHere)) & 0xff;
    return b & mask;
  });
}

function formatCidr(family: 4 | 6, bytes: number[], length: number): string {
  const addr = family === 4 ? new ipaddr.IPv4(bytes) : new ipaddr.IPv6(bytes);
  return `${addr.toString()}/${length}`;
}

/** Compares the first `bits` bits of two equal-length byte arrays. */
function compareBits(a: number[], b: number[], bits: number): number {
  const fullBytes = Math.floor(bits / 8);
  for (let i = 0; i < fullBytes; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  const rest = bits % 8;
  if (rest > 0) {
    const mask = (0xff << (8 - rest)) & 0xff;
    const x = a[fullBytes] & mask;
    const y = b[fullBytes] & mask;
    if (x !== y) return x - y;
  }
  return 0;
}

/**
 * PostgreSQL network ordering (network_cmp): family, then the common-mask bits, then the shorter
 * mask first, then the remaining address bits. So 10.0.0.0/8 < 10.0.0.0/16 < 10.1.0.0/16.
 */
export function compareCidr(a: ParsedCidr, b: ParsedCidr): number {
  if (a.family !== b.family) return a.family - b.family;
  const common = compareBits(a.bytes, b.bytes, Math.min(a.length, b.length));
  if (common !== 0) return common;
  if (a.length !== b.length) return a.length - b.length;
  return compareBits(a.bytes, b.bytes, a.bytes.length * 8);
}

/** True when `outer` strictly contains `inner` (NetBox's `net_contains`). */
export function strictlyContains(outer: ParsedCidr, inner: ParsedCidr): boolean {
  return (
    outer.family === inner.family &&
    outer.length < inner.length &&
    compareBits(outer.bytes, inner.bytes, outer.length) === 0
  );
}

export function containsOrEquals(outer: ParsedCidr, inner: ParsedCidr): boolean {
  return outer.family === inner.family && outer.length <= inner.length && compareBits(outer.bytes, inner.bytes, outer.length) === 0;
}
