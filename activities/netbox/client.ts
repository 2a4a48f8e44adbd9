import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { ZodError } from 'zod';
import {
  InvalidInputError,
  NetBoxAuthError,
  NetBoxRequestRejectedError,
  NetBoxUnavailableError,
  NotANetBoxApiError,
  UnexpectedNetBoxResponseError,
} from '../errors';
import { permissionFor, REQUIRED_PERMISSIONS } from './permissions';
import { redactText } from './redact';
import {
  describeZodError,
  pageSchema,
  parsePrefix,
  parseRole,
  parseStatus,
  type NetBoxPrefix,
  type NetBoxRole,
  type NetBoxStatus,
} from './schemas';

export interface NetBoxConnection {
  baseUrl: string;
  token: string;
  /** Used in messages only. */
  instanceName?: string;
  timeoutMs?: number;
  /** Attempts per request for 5xx, 429, time-outs and connection errors (Temporal retries the activity beyond this). */
  maxAttempts?: number;
  /** First back-off delay; doubles per attempt. */
  backoffMs?: number;
  /** Called before every attempt: activities heartbeat here, so a slow NetBox is not mistaken for a lost worker. */
  onAttempt?: () => void;
  /** Largest answer read (default 64 MiB): a page of 1,000 prefixes is a few MiB; more is not a NetBox API. */
  maxResponseBytes?: number;
}

export type QueryValue = string | number | boolean | null | Array<string | number>;
export type Query = Record<string, QueryValue | undefined>;

export interface NetBoxResponse<T = unknown> {
  status: number;
  data: T;
}

export interface PrefixPage {
  prefixes: NetBoxPrefix[];
  /** Highest prefix id on this page; the next page starts after it. */
  lastId: number;
  /** True when NetBox has nothing after this page. */
  done: boolean;
  /** When the request was sent (ISO 8601): anything NetBox changed later may be missing from the page. */
  fetchedAt: string;
}

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** TLS handshake failures: most often https:// given for a NetBox that speaks plain http (or the reverse). */
const TLS_CODES = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ECONNRESET_TLS']);
const CERT_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/**
 * One thin client per NetBox instance: authentication, retries, pagination and version differences
 * live here, so callers ask for prefixes and roles, not URLs.
 */
export class NetBoxClient {
  readonly baseUrl: string;
  private readonly http: AxiosInstance;
  private readonly label: string;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(private readonly connection: NetBoxConnection) {
    this.baseUrl = normalizeBaseUrl(connection.baseUrl);
    this.label = connection.instanceName ? `NetBox instance '${connection.instanceName}' (${this.baseUrl})` : `NetBox at ${this.baseUrl}`;
    this.maxAttempts = Math.max(1, connection.maxAttempts ?? 4);
    this.backoffMs = connection.backoffMs ?? 250;
    this.http = axios.create({
      baseURL: this.baseUrl,
      timeout: connection.timeoutMs ?? 30_000,
      // A redirect usually means http→https or a login page; following it could send the token elsewhere.
      maxRedirects: 0,
      validateStatus: () => true,
      headers: { Accept: 'application/json', Authorization: authorizationHeader(connection.token) },
      paramsSerializer: { serialize: serializeQuery },
      transitional: { clarifyTimeoutError: true },
      maxContentLength: connection.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    });
  }

  /**
   * Every error this client raises passes through here: an answer can echo the request's Authorization header
   * (a proxy's error page, a misconfigured server), and the message ends up in Temporal history and the CLI.
   */
  private scrub<E extends Error>(err: E): E {
    const message = redactText(err.message, [this.connection.token]);
    if (message !== err.message) err.message = message;
    return err;
  }

  /** `GET /api/status/`: the version, and proof that the base URL is a NetBox API. */
  async status(): Promise<NetBoxStatus> {
    try {
      return await this.readStatus();
    } catch (err) {
      throw this.scrub(err as Error);
    }
  }

  private async readStatus(): Promise<NetBoxStatus> {
    const res = await this.send('GET', '/api/status/', {});
    if (res.status === 200 && res.data && typeof res.data === 'object' && 'netbox-version' in (res.data as object)) {
      try {
        return parseStatus(res.data, header(res, 'api-version'));
      } catch (err) {
        throw this.shapeError('/api/status/', err);
      }
    }
    if (res.status === 401 || res.status === 403) throw this.authError('GET', '/api/status/', res);
    throw new NotANetBoxApiError(
      `${this.baseUrl} does not look like a NetBox API: GET /api/status/ answered ${res.status}` +
        `${typeof res.data === 'string' ? ' with a non-JSON body' : ' without a netbox-version'}; ` +
        `set the base URL to the NetBox address (for example https://netbox.example.com), not a page or proxy in front of it`,
    );
  }

  /** Checks that the token is accepted and may read prefixes (the least every instance needs). */
  async checkToken(): Promise<void> {
    // Read as a page: a server that answers 200 to anything is not a NetBox that accepted the token.
    await this.page('/api/ipam/prefixes/', { limit: 1, brief: 1 });
  }

  /**
   * One page of prefixes in id order, after `afterId`. Keyset paging on `id__gt` instead of trusting
   * `next` (its host can be wrong behind a proxy) or assuming NetBox honoured `limit` (MAX_PAGE_SIZE caps it
   * silently); it also cannot skip or repeat rows when prefixes are added or removed during the walk.
   */
  async prefixesAfter(afterId: number, limit: number, roleIds: number[] = []): Promise<PrefixPage> {
    const fetchedAt = new Date().toISOString();
    const query: Query = { ordering: 'id', id__gt: afterId, limit };
    if (roleIds.length) query.role_id = roleIds;
    const page = await this.page('/api/ipam/prefixes/', query);
    const prefixes = page.results.map((raw) => this.parse('/api/ipam/prefixes/', raw, parsePrefix));
    const lastId = prefixes.reduce((max, p) => Math.max(max, p.id), afterId);
    return { prefixes, lastId, done: prefixes.length === 0 || page.next === null, fetchedAt };
  }

  /** The number of prefixes matching `query` (one small request). */
  async countPrefixes(query: Query = {}): Promise<number | null> {
    const page = await this.page('/api/ipam/prefixes/', { ...query, limit: 1, brief: 1 });
    return page.count;
  }

  /** The prefix as NetBox has it now, or null when it no longer exists. */
  async prefix(id: number): Promise<NetBoxPrefix | null> {
    const res = await this.request('GET', `/api/ipam/prefixes/${id}/`, { allowStatuses: [404] });
    return res.status === 404 ? null : this.parse(`/api/ipam/prefixes/${id}/`, res.data, parsePrefix);
  }

  /** Every prefix with one of these ids that still exists (ids NetBox no longer has are simply absent). */
  async prefixesById(ids: number[]): Promise<NetBoxPrefix[]> {
    const found: NetBoxPrefix[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      for await (const raw of this.paginate('/api/ipam/prefixes/', { id: chunk, ordering: 'id' })) {
        found.push(this.parse('/api/ipam/prefixes/', raw, parsePrefix));
      }
    }
    return found;
  }

  async roles(): Promise<NetBoxRole[]> {
    const roles: NetBoxRole[] = [];
    for await (const raw of this.paginate('/api/ipam/roles/', { ordering: 'name' })) {
      roles.push(this.parse('/api/ipam/roles/', raw, parseRole));
    }
    return roles;
  }

  /**
   * Every object of a list endpoint, by offset. The offset advances by what actually came back, so a
   * server-side cap on `limit` loses nothing; `next` is read only as "is there more", never followed.
   */
  async *paginate(path: string, query: Query = {}, pageSize = 1000): AsyncGenerator<unknown> {
    let offset = 0;
    for (;;) {
      const page = await this.page(path, { ...query, limit: pageSize, offset });
      yield* page.results;
      offset += page.results.length;
      if (page.next === null || page.results.length === 0) return;
    }
  }

  /**
   * An authenticated request to this NetBox's API. The path must stay inside `/api/`; 401/403 and other
   * 4xx answers become permanent errors unless listed in `allowStatuses`.
   */
  async request<T = unknown>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; allowStatuses?: number[] } = {},
  ): Promise<NetBoxResponse<T>> {
    try {
      return await this.sendChecked<T>(method, path, options);
    } catch (err) {
      throw this.scrub(err as Error);
    }
  }

  private async sendChecked<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; allowStatuses?: number[] },
  ): Promise<NetBoxResponse<T>> {
    const res = await this.send(method, checkApiPath(path), options);
    if (res.status >= 200 && res.status < 300) return { status: res.status, data: res.data as T };
    if (options.allowStatuses?.includes(res.status)) return { status: res.status, data: res.data as T };
    if (res.status === 401 || res.status === 403) throw this.authError(method, path, res);
    throw new NetBoxRequestRejectedError(
      `${this.label} rejected ${method.toUpperCase()} ${path} with ${res.status}: ${summarizeBody(res.data)}`,
      res.status,
    );
  }

  private async page(path: string, query: Query) {
    const res = await this.request('GET', path, { query });
    try {
      return pageSchema.parse(res.data);
    } catch (err) {
      throw this.scrub(this.shapeError(path, err));
    }
  }

  /** Sends with retries for what a later attempt can fix: 5xx, 429, time-outs, dropped connections. */
  private async send(method: string, path: string, options: { query?: Query; body?: unknown }): Promise<AxiosResponse> {
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      this.connection.onAttempt?.();
      let waitMs = this.backoffMs * 2 ** (attempt - 1);
      try {
        const res = await this.http.request({ method, url: path, params: options.query, data: options.body });
        if (res.status >= 300 && res.status < 400) {
          throw new NotANetBoxApiError(
            `${this.label} redirected ${method.toUpperCase()} ${path} to ${header(res, 'location') ?? 'another address'}; ` +
              `set the base URL to where NetBox really answers (often https:// instead of http://)`,
          );
        }
        if (res.status !== 429 && res.status < 500) return res;
        lastProblem = `answered ${res.status}`;
        const retryAfter = Number(header(res, 'retry-after'));
        if (res.status === 429 && Number.isFinite(retryAfter)) waitMs = Math.min(retryAfter * 1000, 10_000);
      } catch (err) {
        if (!axios.isAxiosError(err)) throw err;
        const code = err.code ?? '';
        if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(err.message)) {
          const limit = this.http.defaults.maxContentLength ?? DEFAULT_MAX_RESPONSE_BYTES;
          throw new UnexpectedNetBoxResponseError(
            `${this.label} answered with more than ${Math.round(limit / 1024 / 1024)} MiB for ${method.toUpperCase()} ${path}; ` +
              `a NetBox API page is far smaller: check the base URL points at NetBox itself`,
          );
        }
        if (TLS_CODES.has(code) || /wrong version number|packet length too long/i.test(err.message)) {
          throw new NetBoxUnavailableError(
            `${this.label} could not be reached for ${method.toUpperCase()} ${path}: the TLS handshake failed (${code || 'TLS error'}); ` +
              `if NetBox serves plain HTTP, use http:// instead of https:// in the base URL`,
          );
        }
        if (CERT_CODE.test(code)) {
          throw new NetBoxUnavailableError(
            `${this.label} could not be reached for ${method.toUpperCase()} ${path}: its TLS certificate is not trusted (${code}); ` +
              `install the CA (NODE_EXTRA_CA_CERTS) or fix the certificate`,
          );
        }
        if (!RETRYABLE_CODES.has(code)) {
          throw new NetBoxUnavailableError(
            `${this.label} could not be reached for ${method.toUpperCase()} ${path}: ${code || 'request failed'}; check the base URL and that NetBox is reachable from here`,
          );
        }
        lastProblem = code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'timed out' : `failed to connect (${code})`;
      }
      if (attempt < this.maxAttempts) await sleep(waitMs);
    }
    throw new NetBoxUnavailableError(
      `${this.label} ${lastProblem} for ${method.toUpperCase()} ${path} after ${this.maxAttempts} attempts; ` +
        `check that NetBox runs at ${this.baseUrl} and is reachable from here (a workflow retries this by itself)`,
    );
  }

  private authError(method: string, path: string, res: AxiosResponse): NetBoxAuthError {
    if (res.status === 401 || isTokenRefusal(res.data)) {
      return new NetBoxAuthError(
        `${this.label} rejected the API token (${res.status} ${summarizeBody(res.data)}): ` +
          `check the token (v2 tokens start with nbt_ and need NetBox 4.5+); for an instance already saved, update it`,
      );
    }
    const permission = permissionFor(method, path);
    return new NetBoxAuthError(
      `${this.label} refused ${method.toUpperCase()} ${path} (403): the API token lacks ` +
        (permission ? `the permission '${permission}'` : 'a permission') +
        `; grant it to the token's user (this integration needs: ${REQUIRED_PERMISSIONS.join(', ')})`,
    );
  }

  private parse<T>(path: string, raw: unknown, parser: (raw: unknown) => T): T {
    try {
      return parser(raw);
    } catch (err) {
      throw this.scrub(this.shapeError(path, err, raw));
    }
  }

  private shapeError(path: string, err: unknown, raw?: unknown): Error {
    if (!(err instanceof ZodError)) return err as Error;
    const id = raw && typeof raw === 'object' && 'id' in raw ? ` (object id ${String((raw as { id: unknown }).id)})` : '';
    return new UnexpectedNetBoxResponseError(
      `${this.label} returned something this integration cannot read from ${path}${id}: ${describeZodError(err)}; ` +
        `is this a NetBox 4.1-4.7 API?`,
    );
  }
}

/** v2 tokens (`nbt_…`, NetBox 4.5+) go as Bearer; classic 40-character keys as `Token`. */
export function authorizationHeader(token: string): string {
  const t = token.trim();
  return t.startsWith('nbt_') ? `Bearer ${t}` : `Token ${t}`;
}

/** `https://netbox.example.com/api/` → `https://netbox.example.com`; rejects what is not an http(s) URL. */
export function normalizeBaseUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new InvalidInputError(`'${input}' is not a URL; give the NetBox address, for example https://netbox.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInputError(`'${input}' must start with http:// or https://`);
  }
  if (url.username || url.password) {
    throw new InvalidInputError('put the API token in the token field, not in the NetBox URL');
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return `${url.origin}${path}`;
}

/** Keeps requests inside the instance's API: no absolute URLs, no `..`, nothing outside `/api/`. */
export function checkApiPath(path: string): string {
  if (!/^\/api\/[A-Za-z0-9_\-./]*$/.test(path) || path.split('/').some((s) => s === '..' || s === '.')) {
    throw new InvalidInputError(`'${path}' is not a NetBox API path: it must start with /api/ and stay inside it (no '..', no host)`);
  }
  return path;
}

/**
 * NetBox refuses a wrong, expired or missing token with 403, not 401 (DRF's SessionAuthentication comes first and
 * sends no WWW-Authenticate), the same status as a missing permission: the two differ only in `detail`
 * ("Invalid token", "Invalid v2 token", "Token expired", … against "You do not have permission to perform this action.").
 */
function isTokenRefusal(body: unknown): boolean {
  const detail = body && typeof body === 'object' ? (body as { detail?: unknown }).detail : undefined;
  return typeof detail === 'string' && /token|credentials were not provided|authorization header/i.test(detail);
}

function serializeQuery(params: Query): string {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.append(key, v === null ? 'null' : String(v));
  }
  return out.toString();
}

function header(res: AxiosResponse, name: string): string | undefined {
  const v = res.headers?.[name];
  return v === undefined || v === null ? undefined : String(v);
}

function summarizeBody(data: unknown): string {
  if (data && typeof data === 'object' && 'detail' in data) return String((data as { detail: unknown }).detail);
  const text = typeof data === 'string' ? data.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim() : JSON.stringify(data);
  return (text ?? '').slice(0, 300) || '(empty body)';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
