/**
 * Reading JSON request bodies the way Django REST framework validates them: each problem is
 * collected under its field name with DRF's wording, and all of them are reported together as a
 * 400 `{"field": ["message", ...]}`.
 */
import { ApiError } from './shapes';

export class BodyReader {
  readonly errors: Record<string, unknown> = {};
  readonly body: Record<string, unknown>;

  /** `partial` is PATCH: absent fields are not required and keep their value. */
  constructor(
    raw: unknown,
    readonly partial: boolean,
  ) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ApiError(400, { non_field_errors: ['Invalid data. Expected a dictionary, but got ' + (Array.isArray(raw) ? 'list' : typeof raw) + '.'] });
    }
    this.body = raw as Record<string, unknown>;
  }

  has(field: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.body, field);
  }

  fail(field: string, message: string): void {
    const list = (this.errors[field] as string[] | undefined) ?? [];
    list.push(message);
    this.errors[field] = list;
  }

  failNested(field: string, detail: Record<string, string[]>): void {
    this.errors[field] = detail;
  }

  /** Throws the collected 400, if any. */
  done(): void {
    if (Object.keys(this.errors).length) throw new ApiError(400, this.errors as Record<string, string[]>);
  }

  private missing(field: string, required: boolean): boolean {
    if (this.has(field)) return false;
    if (required && !this.partial) this.fail(field, 'This field is required.');
    return true;
  }

  string(field: string, opts: { required?: boolean; max?: number; blank?: boolean; nullable?: boolean } = {}): string | null | undefined {
    if (this.missing(field, !!opts.required)) return undefined;
    const v = this.body[field];
    if (v === null) {
      if (opts.nullable) return null;
      this.fail(field, 'This field may not be null.');
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.fail(field, 'Not a valid string.');
      return undefined;
    }
    const s = String(v);
    if (s === '' && opts.blank === false) {
      this.fail(field, 'This field may not be blank.');
      return undefined;
    }
    if (opts.max !== undefined && s.length > opts.max) {
      this.fail(field, `Ensure this field has no more than ${opts.max} characters.`);
      return undefined;
    }
    return s;
  }

  boolean(field: string): boolean | undefined {
    if (this.missing(field, false)) return undefined;
    const v = this.body[field];
    const truthy = [true, 'true', 'True', 1, '1', 'yes', 'on'];
    const falsy = [false, 'false', 'False', 0, '0', 'no', 'off'];
    if (truthy.includes(v as never)) return true;
    if (falsy.includes(v as never)) return false;
    this.fail(field, 'Must be a valid boolean.');
    return undefined;
  }

  integer(field: string, opts: { required?: boolean; nullable?: boolean; min?: number; max?: number } = {}): number | null | undefined {
    if (this.missing(field, !!opts.required)) return undefined;
    const v = this.body[field];
    if (v === null) {
      if (opts.nullable) return null;
      this.fail(field, 'This field may not be null.');
      return undefined;
    }
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      this.fail(field, 'A valid integer is required.');
      return undefined;
    }
    if (opts.min !== undefined && n < opts.min) {
      this.fail(field, `Ensure this value is greater than or equal to ${opts.min}.`);
      return undefined;
    }
    if (opts.max !== undefined && n > opts.max) {
      this.fail(field, `Ensure this value is less than or equal to ${opts.max}.`);
      return undefined;
    }
    return n;
  }

  choice(field: string, choices: readonly string[], opts: { required?: boolean } = {}): string | undefined {
    if (this.missing(field, !!opts.required)) return undefined;
    const v = this.body[field];
    // NetBox's ChoiceField also accepts the {value, label} shape it renders.
    const value = v !== null && typeof v === 'object' && 'value' in (v as object) ? (v as { value: unknown }).value : v;
    if (typeof value !== 'string' || !choices.includes(value)) {
      this.fail(field, `"${String(value)}" is not a valid choice.`);
      return undefined;
    }
    return value;
  }

  /** A related object given as a numeric id or `{"id": n}` (NetBox's nested serializer input). */
  relatedId(field: string, opts: { required?: boolean } = {}): number | null | undefined {
    if (this.missing(field, !!opts.required)) return undefined;
    const v = this.body[field];
    if (v === null) return null;
    const id = v !== null && typeof v === 'object' && 'id' in (v as object) ? (v as { id: unknown }).id : v;
    const n = typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : id;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      this.fail(field, `Related objects must be referenced by numeric ID or by dictionary of attributes. Received an unrecognized value: ${JSON.stringify(v)}`);
      return undefined;
    }
    return n;
  }

  stringList(field: string, opts: { required?: boolean; allowEmpty?: boolean } = {}): string[] | undefined {
    if (this.missing(field, !!opts.required)) return undefined;
    const v = this.body[field];
    if (!Array.isArray(v)) {
      this.fail(field, `Expected a list of items but got type "${v === null ? 'NoneType' : typeof v}".`);
      return undefined;
    }
    if (!v.length && opts.allowEmpty === false) {
      this.fail(field, 'This list may not be empty.');
      return undefined;
    }
    if (v.some((x) => typeof x !== 'string')) {
      this.fail(field, 'Not a valid string.');
      return undefined;
    }
    return v as string[];
  }

  object(field: string): Record<string, unknown> | undefined {
    if (this.missing(field, false)) return undefined;
    return this.body[field] as Record<string, unknown>;
  }

  tags(): string[] | undefined {
    if (!this.has('tags')) return undefined;
    const v = this.body.tags;
    if (!Array.isArray(v)) {
      this.fail('tags', `Expected a list of items but got type "${typeof v}".`);
      return undefined;
    }
    return v.map((t) => (typeof t === 'string' ? t : String((t as { name?: unknown; slug?: unknown }).name ?? (t as { slug?: unknown }).slug ?? '')));
  }
}
