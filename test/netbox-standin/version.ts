/**
 * The NetBox release the stand-in claims to be, and every behaviour that depends on it.
 *
 * All "which version does what" decisions live here (as named predicates) so the rest of the
 * stand-in never compares version numbers itself. Facts come from
 * /work/shared/reference/netbox-api.md unless a comment names a NetBox source file.
 */

/** Patch release assumed when a caller gives only `major.minor`. */
const DEFAULT_PATCH: Record<string, number> = {
  '4.1': 11,
  '4.2': 9,
  '4.3': 7,
  '4.4': 10,
  '4.5': 0,
  '4.6': 0,
  '4.7': 0,
};

/** Django shipped with each minor (used only for /api/status/). */
const DJANGO_VERSION: Record<string, string> = {
  '4.1': '5.0.9',
  '4.2': '5.1.5',
  '4.3': '5.2.1',
  '4.4': '5.2.5',
};

export class NetBoxVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;

  private constructor(major: number, minor: number, patch: number) {
    this.major = major;
    this.minor = minor;
    this.patch = patch;
  }

  /** Accepts '4.2' (patch defaulted, see DEFAULT_PATCH) or '4.2.3'. Only 4.x is modelled. */
  static parse(text: string): NetBoxVersion {
    const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim());
    if (!m) {
      throw new Error(`NetBox version '${text}' is not 'major.minor' or 'major.minor.patch' (e.g. '4.2' or '4.2.9')`);
    }
    const major = Number(m[1]);
    const minor = Number(m[2]);
    if (major !== 4 || minor < 1) {
      throw new Error(`NetBox version '${text}' is not modelled: the stand-in covers 4.1 and later 4.x releases`);
    }
    const patch = m[3] !== undefined ? Number(m[3]) : (DEFAULT_PATCH[`${major}.${minor}`] ?? 0);
    return new NetBoxVersion(major, minor, patch);
  }

  /** `API-Version` header value. */
  get apiVersion(): string {
    return `${this.major}.${this.minor}`;
  }

  get full(): string {
    return `${this.major}.${this.minor}.${this.patch}`;
  }

  atLeast(minor: number, patch = 0): boolean {
    return this.minor > minor || (this.minor === minor && this.patch >= patch);
  }

  between(fromMinor: number, fromPatch: number, toMinor: number, toPatch: number): boolean {
    const after = this.atLeast(fromMinor, fromPatch);
    const before = this.minor < toMinor || (this.minor === toMinor && this.patch <= toPatch);
    return after && before;
  }

  // ---- REST shapes -------------------------------------------------------------------------

  /** 4.2 replaced Prefix.site with a generic scope (scope_type/scope_id/scope). */
  get prefixHasScope(): boolean {
    return this.atLeast(2);
  }

  /** 4.5 added `owner` (and `comments` on roles) to most serializers. */
  get hasOwnerField(): boolean {
    return this.atLeast(5);
  }

  /** 4.7 added Webhook.timeout. */
  get webhookHasTimeout(): boolean {
    return this.atLeast(7);
  }

  /**
   * Fields a real 4.7.3 answers with and the stand-in's earlier shapes lacked (test/fixtures/real-netbox-4.7.3):
   * custom fields' `nulls_first`, `validation_schema` and `status`, event rules' `action_is_available`, roles'
   * `asn_count`, and `path_info`/`GET` in webhook bodies' `request`. Modelled from 4.7 on: the release each arrived
   * in was not recorded here.
   */
  get hasFieldsSeenIn473(): boolean {
    return this.atLeast(7);
  }

  /** `?omit=` arrived in 4.5.2. */
  get supportsOmit(): boolean {
    return this.atLeast(5, 2);
  }

  /** Cursor paging (`?start=<pk>`) arrived in 4.6. */
  get supportsCursorPaging(): boolean {
    return this.atLeast(6);
  }

  // ---- /api/status/ ------------------------------------------------------------------------

  /** 4.1–4.2 report the full string in `netbox-version`; 4.3+ add `netbox-full-version`. */
  get statusHasFullVersionKey(): boolean {
    return this.atLeast(3);
  }

  /** 4.4 renamed `installed-apps` to `installed_apps`. */
  get statusInstalledAppsKey(): 'installed-apps' | 'installed_apps' {
    return this.atLeast(4) ? 'installed_apps' : 'installed-apps';
  }

  get djangoVersion(): string {
    return DJANGO_VERSION[this.apiVersion] ?? '5.2.8';
  }

  // ---- Authentication ----------------------------------------------------------------------

  /** v2 tokens (`Bearer nbt_<key>.<secret>`) and /api/authentication-check/ exist from 4.5. */
  get supportsV2Tokens(): boolean {
    return this.atLeast(5);
  }

  // ---- Events ------------------------------------------------------------------------------

  /** Deleting a role nulls Prefix.role; from 4.2.9 that emits prefix `updated` events. */
  get roleDeleteEmitsPrefixUpdates(): boolean {
    return this.atLeast(2, 9);
  }

  /** 4.4.9 – 4.5.0 re-save a site's scoped prefixes on site edit, emitting prefix `updated`. */
  get siteEditEmitsPrefixUpdates(): boolean {
    return this.between(4, 9, 5, 0);
  }

  /** 4.1 Prefix.site is PROTECT (409 on site delete); 4.2+ scope deletion cascades. */
  get siteDeleteCascadesPrefixes(): boolean {
    return this.prefixHasScope;
  }

  get webhookBodyHasModel(): boolean {
    return !this.atLeast(5);
  }

  get webhookBodyHasObjectType(): boolean {
    return this.atLeast(4);
  }

  get webhookBodyHasUsernameAndRequestId(): boolean {
    return !this.atLeast(7);
  }

  get webhookBodyHasRequest(): boolean {
    return this.atLeast(6);
  }

  /** Before 4.7 NetBox sends webhooks with no HTTP timeout at all. */
  get webhookSendHasTimeout(): boolean {
    return this.atLeast(7);
  }
}
