import { z } from 'zod';
import { describeZodError } from './schemas';

/**
 * The body NetBox's default webhook template sends, 4.1 → 4.7, read down to the small change notice the
 * real-time workflow needs. Version differences (shared/reference/netbox-api.md, "What NetBox sends"):
 * - the object kind is `model` ("prefix") up to 4.4, `object_type` ("ipam.prefix") from 4.4; 4.5+ drop `model`;
 * - `username`/`request_id` (up to 4.6) and `request` (4.6+) are never required.
 * The event is only a hint: the workflow re-reads the prefix from NetBox, so nothing else in `data` is trusted.
 */

/** What the receiver signals to the instance's workflow: small, and free of tokens and secrets. */
export type NetBoxChange = PrefixChange | SiteChange;

export interface PrefixChange {
  objectType: 'prefix';
  /** NetBox prefix id: the identity; the prefix is re-read by id. */
  objectId: number;
  event: WebhookEvent;
  /** NetBox's event time (ISO-8601). */
  timestamp: string;
}

export interface SiteChange {
  objectType: 'site';
  objectId: number;
  event: WebhookEvent;
  timestamp: string;
  /**
   * The site's name, and its name before an edit when it changed: our blocks live on the Network Site of that
   * name, and the ledger finds them by it once the site is gone from NetBox.
   */
  siteNames: string[];
}

export type WebhookEvent = 'created' | 'updated' | 'deleted';

/** A webhook body this receiver will not act on; the message names the field. */
export class WebhookPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookPayloadError';
  }
}

/**
 * `object_type` (4.4+) and `model` (≤4.4) values of the object kinds this integration handles. A Map, not an
 * object literal: a body saying `"model": "constructor"` must not find Object.prototype's members.
 */
const OBJECT_KINDS = new Map<string, 'prefix' | 'site'>([
  ['ipam.prefix', 'prefix'],
  ['dcim.site', 'site'],
  ['prefix', 'prefix'],
  ['site', 'site'],
]);

/**
 * What goes into the Temporal signal is bounded here: NetBox's timestamps are ~32 characters and Site.name is at
 * most 100 (max_length=100), so a signed body cannot make a signal too large for Temporal (which would fail every
 * webhook grouped into it) with a megabyte of timestamp or site name.
 */
const MAX_TIMESTAMP_LENGTH = 64;
const MAX_SITE_NAME_LENGTH = 100;

const envelope = z.object({
  event: z.enum(['created', 'updated', 'deleted']),
  timestamp: z.string().min(1).max(MAX_TIMESTAMP_LENGTH),
  object_type: z.string().optional(),
  model: z.string().optional(),
  data: z.object({ id: z.number().int().positive() }).loose(),
  snapshots: z
    .object({ prechange: z.record(z.string(), z.unknown()).nullish(), postchange: z.record(z.string(), z.unknown()).nullish() })
    .nullish(),
});

const prefixData = z.object({ prefix: z.string().min(1) });
const siteData = z.object({ name: z.string().min(1).max(MAX_SITE_NAME_LENGTH) });

/** Reads a parsed webhook body; throws WebhookPayloadError naming the field that is missing or wrong. */
export function parseWebhookPayload(body: unknown): NetBoxChange {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new WebhookPayloadError('the body must be a JSON object (NetBox\'s default webhook body)');
  }
  const raw = body as Record<string, unknown>;
  const kindField = raw.object_type !== undefined ? 'object_type' : raw.model !== undefined ? 'model' : null;
  if (!kindField) {
    throw new WebhookPayloadError('object_type: required (or model, from NetBox before 4.5); is the webhook using a custom body template?');
  }
  const kindValue = raw[kindField];
  const objectType = typeof kindValue === 'string' ? OBJECT_KINDS.get(kindValue) : undefined;
  if (!objectType) {
    throw new WebhookPayloadError(
      `${kindField}: ${JSON.stringify(kindValue)} is not handled; this receiver takes ipam.prefix and dcim.site events only`,
    );
  }

  const parsed = envelope.safeParse(body);
  if (!parsed.success) throw new WebhookPayloadError(describeZodError(parsed.error));
  const { event, timestamp, data, snapshots } = parsed.data;

  if (objectType === 'prefix') {
    const p = prefixData.safeParse(data);
    if (!p.success) throw new WebhookPayloadError(prefixed('data', describeZodError(p.error)));
    return { objectType, objectId: data.id, event, timestamp };
  }
  const s = siteData.safeParse(data);
  if (!s.success) throw new WebhookPayloadError(prefixed('data', describeZodError(s.error)));
  const before = snapshots?.prechange?.name;
  if (typeof before === 'string' && before.length > MAX_SITE_NAME_LENGTH) {
    throw new WebhookPayloadError(`snapshots.prechange.name: longer than NetBox allows (${MAX_SITE_NAME_LENGTH} characters)`);
  }
  const siteNames = typeof before === 'string' && before && before !== s.data.name ? [s.data.name, before] : [s.data.name];
  return { objectType, objectId: data.id, event, timestamp, siteNames };
}

function prefixed(field: string, message: string): string {
  return message
    .split('; ')
    .map((part) => `${field}.${part}`)
    .join('; ');
}
