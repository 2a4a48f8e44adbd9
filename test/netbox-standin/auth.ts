/**
 * API token authentication and Django model permissions, per NetBox version.
 *
 * - 4.1–4.4: only `Authorization: Token <40-hex key>` (DRF TokenAuthentication: the keyword is
 *   matched case-insensitively; any other keyword, such as `Bearer`, is ignored, so the request is
 *   simply unauthenticated → 401 "Authentication credentials were not provided.").
 * - 4.5+: v2 tokens `nbt_<12-char key>.<40-char secret>` as `Bearer`; v1 keys keep working. The
 *   token kind is told from the `nbt_` prefix, not from the keyword.
 * Error texts are DRF's (rest_framework/authentication.py) and NetBox's ("Invalid token",
 * netbox/netbox/api/authentication.py).
 */
import { randomBytes } from 'node:crypto';
import { ApiError } from './shapes';
import { NetBoxVersion } from './version';

export interface TokenSpec {
  token: string;
  /** Django permission names (`ipam.view_prefix`, `extras.add_webhook`, …) or 'all' (superuser). */
  permissions?: string[] | 'all';
  /** User the token belongs to; appears as `username` in webhook bodies (default 'admin'). */
  username?: string;
}

export interface Principal {
  username: string;
  tokenKind: 'v1' | 'v2';
  can(permission: string): boolean;
}

const V2_TOKEN = /^nbt_[A-Za-z0-9]{12}\.[A-Za-z0-9]{40}$/;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function isV2Token(token: string): boolean {
  return token.startsWith('nbt_');
}

export function newV1Token(): string {
  return randomBytes(20).toString('hex');
}

export function newV2Token(): string {
  const pick = (n: number) =>
    Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');
  return `nbt_${pick(12)}.${pick(40)}`;
}

/** Default tokens: a v1 key for every version, plus a v2 token from 4.5. */
export function defaultTokens(version: NetBoxVersion): TokenSpec[] {
  const tokens: TokenSpec[] = [{ token: newV1Token(), permissions: 'all' }];
  if (version.supportsV2Tokens) tokens.push({ token: newV2Token(), permissions: 'all' });
  return tokens;
}

export function checkTokenSpecs(version: NetBoxVersion, tokens: TokenSpec[]): void {
  for (const t of tokens) {
    if (isV2Token(t.token)) {
      if (!version.supportsV2Tokens) {
        throw new Error(`token ${t.token.slice(0, 16)}… is a v2 (nbt_) token; NetBox ${version.full} only has v1 40-hex keys (v2 arrived in 4.5)`);
      }
      if (!V2_TOKEN.test(t.token)) throw new Error(`v2 token ${t.token.slice(0, 16)}… must look like nbt_<12 alphanumerics>.<40 alphanumerics>`);
    } else if (!/^[0-9a-fA-F]{40}$/.test(t.token)) {
      throw new Error(`v1 token '${t.token}' must be 40 hexadecimal characters`);
    }
  }
}

const NOT_PROVIDED = 'Authentication credentials were not provided.';

/** Resolves the Authorization header to a principal or throws the 401 NetBox would send. */
export function authenticate(version: NetBoxVersion, tokens: TokenSpec[], header: string | undefined): Principal {
  if (!header) throw new ApiError(401, { detail: NOT_PROVIDED });
  const parts = header.trim().split(/\s+/);
  const keyword = parts[0].toLowerCase();
  const accepted = version.supportsV2Tokens ? ['token', 'bearer'] : ['token'];
  if (!accepted.includes(keyword)) throw new ApiError(401, { detail: NOT_PROVIDED });
  if (parts.length === 1) throw new ApiError(401, { detail: 'Invalid token header. No credentials provided.' });
  if (parts.length > 2) throw new ApiError(401, { detail: 'Invalid token header. Token string should not contain spaces.' });
  const presented = parts[1];
  const v2 = isV2Token(presented);
  if (v2 && !version.supportsV2Tokens) throw new ApiError(401, { detail: 'Invalid token' });
  const spec = tokens.find((t) => t.token === presented);
  if (!spec) throw new ApiError(401, { detail: 'Invalid token' });
  const perms = spec.permissions ?? 'all';
  return {
    username: spec.username ?? 'admin',
    tokenKind: v2 ? 'v2' : 'v1',
    can: (permission) => perms === 'all' || perms.includes(permission),
  };
}

export function requirePermission(principal: Principal, permission: string): void {
  if (!principal.can(permission)) {
    throw new ApiError(403, { detail: 'You do not have permission to perform this action.' });
  }
}
