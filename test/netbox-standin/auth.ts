/**
 * API token authentication and Django model permissions, per NetBox version.
 *
 * Every authentication failure is a 403, never a 401: NetBox lists DRF's SessionAuthentication first in
 * DEFAULT_AUTHENTICATION_CLASSES, and it has no WWW-Authenticate header, so DRF answers 403 (recorded from a real
 * 4.7.3 in test/fixtures/real-netbox-4.7.3/api; pynetbox#375 shows the same `403 {"detail": "Invalid token"}` from
 * older releases). LOGIN_REQUIRED defaults to true since 4.0, so `/api/` and `/api/status/` need a token too.
 *
 * - 4.1–4.4: only `Authorization: Token <40-hex key>` (DRF TokenAuthentication: the keyword is
 *   matched case-insensitively; any other keyword, such as `Bearer`, is ignored, so the request is
 *   simply unauthenticated → "Authentication credentials were not provided.").
 * - 4.5+: v2 tokens `nbt_<12-char key>.<40-char secret>`; `Token` and `Bearer` both take either kind: the token
 *   kind is told from the `nbt_` prefix, not from the keyword ("Invalid v1 token" / "Invalid v2 token").
 * Error texts are DRF's (rest_framework/authentication.py) and NetBox's (netbox/netbox/api/authentication.py),
 * the 4.5+ ones as a real 4.7.3 sends them.
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

/** Resolves the Authorization header to a principal or throws the 403 NetBox would send. */
export function authenticate(version: NetBoxVersion, tokens: TokenSpec[], header: string | undefined): Principal {
  const refuse = (detail: string) => new ApiError(403, { detail });
  if (!header) throw refuse(NOT_PROVIDED);
  const parts = header.trim().split(/\s+/);
  const keyword = parts[0].toLowerCase();
  let spec: TokenSpec | undefined;
  if (version.supportsV2Tokens) {
    if (keyword !== 'token' && keyword !== 'bearer') throw refuse(NOT_PROVIDED);
    if (parts.length !== 2) throw refuse('Invalid authorization header: Must be in the form "Bearer <key>.<token>" or "Token <token>"');
    spec = tokens.find((t) => t.token === parts[1]);
    if (!spec) throw refuse(parts[1].startsWith('nbt_') ? 'Invalid v2 token' : 'Invalid v1 token');
  } else {
    if (keyword !== 'token') throw refuse(NOT_PROVIDED);
    if (parts.length === 1) throw refuse('Invalid token header. No credentials provided.');
    if (parts.length > 2) throw refuse('Invalid token header. Token string should not contain spaces.');
    spec = tokens.find((t) => t.token === parts[1]);
    if (!spec) throw refuse('Invalid token');
  }
  const v2 = isV2Token(spec.token);
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
