import { z } from 'zod';

/**
 * What this integration keeps in a NetBox so that NetBox tells it about prefix changes: two tracking custom
 * fields, one webhook and two event rules per instance. This module says what each object should look like
 * and how to read NetBox's answer; the activities in ../webhook-registration.ts do the requests.
 *
 * Identity: every webhook and event rule we make carries `gaiia_instance_id` (a random id per instance,
 * so two deployments or tenants pointed at one NetBox never claim each other's objects) and
 * `gaiia_tenant_id`, and is named after that id (NetBox names are unique, so the name is a second,
 * collision-free way to find our own objects if the custom field values were lost).
 */

export const TENANT_FIELD = 'gaiia_tenant_id';
export const INSTANCE_FIELD = 'gaiia_instance_id';
export const TRACKING_FIELDS = [TENANT_FIELD, INSTANCE_FIELD] as const;
/** The object types our tracking fields are defined on. */
export const TRACKED_OBJECT_TYPES = ['extras.eventrule', 'extras.webhook'];

export interface TrackingIdentity {
  tenantId: string;
  /** The instance's tracking id: the value of `gaiia_instance_id`. */
  instanceKey: string;
}

export type EventRuleKind = 'prefixChanges' | 'siteDeletions';
export const EVENT_RULE_KINDS: EventRuleKind[] = ['prefixChanges', 'siteDeletions'];

export function webhookName(id: TrackingIdentity): string {
  return `gaiia prefix sync ${id.instanceKey}`;
}

export function eventRuleName(id: TrackingIdentity, kind: EventRuleKind): string {
  return `${webhookName(id)} ${kind === 'prefixChanges' ? 'prefix changes' : 'site deletions'}`;
}

/** The receiver's URL for one instance (see issue 3): NetBox posts every event of the instance here. */
export function payloadUrlFor(receiverPublicUrl: string, instanceId: number): string {
  return `${receiverPublicUrl.replace(/\/+$/, '')}/webhooks/netbox?instanceId=${instanceId}`;
}

export function trackingValues(id: TrackingIdentity): Record<string, string> {
  return { [TENANT_FIELD]: id.tenantId, [INSTANCE_FIELD]: id.instanceKey };
}

// ---- NetBox's shapes (4.1 → 4.7 agree on every field read here) -----------------------------------------

/** Choice fields come as `{value, label}` in REST output and as a plain value in requests. */
const choiceValue = z.union([z.string(), z.object({ value: z.string() }).transform((c) => c.value)]);
const customFieldValues = z.record(z.string(), z.unknown()).nullish().transform((v) => v ?? {});

export const netboxWebhookSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  payload_url: z.string(),
  http_method: choiceValue,
  http_content_type: z.string(),
  additional_headers: z.string().nullish(),
  body_template: z.string().nullish(),
  /** Readable through the API in every 4.x release; absent if a proxy or plugin hides it. */
  secret: z.string().nullish(),
  ssl_verification: z.boolean(),
  custom_fields: customFieldValues,
});
export type NetBoxWebhook = z.infer<typeof netboxWebhookSchema>;

export const netboxEventRuleSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  object_types: z.array(z.string()),
  enabled: z.boolean(),
  event_types: z.array(z.string()),
  conditions: z.unknown().nullish(),
  action_type: choiceValue,
  action_object_type: z.string(),
  action_object_id: z.number().int().nullable(),
  custom_fields: customFieldValues,
});
export type NetBoxEventRule = z.infer<typeof netboxEventRuleSchema>;

export const netboxCustomFieldSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  type: choiceValue,
  object_types: z.array(z.string()),
  required: z.boolean().optional(),
});
export type NetBoxCustomField = z.infer<typeof netboxCustomFieldSchema>;

// ---- Desired state ---------------------------------------------------------------------------------------

export function desiredCustomField(name: (typeof TRACKING_FIELDS)[number]) {
  return {
    name,
    label: name === TENANT_FIELD ? 'gaiia tenant' : 'gaiia instance',
    type: 'text',
    object_types: TRACKED_OBJECT_TYPES,
    description:
      name === TENANT_FIELD
        ? 'gaiia tenant whose prefix sync made this object (managed by netbox-prefix-sync; do not edit)'
        : 'netbox-prefix-sync instance that made this object (managed by netbox-prefix-sync; do not edit)',
    required: false,
    // NetBox's default (`loose`) makes `cf_gaiia_instance_id=<id>` a case-insensitive "contains" match.
    filter_logic: 'exact',
  };
}

/** What has to change on an existing custom field: our object types added, never anyone else's removed. */
export function customFieldRepair(found: NetBoxCustomField): Record<string, unknown> | null {
  const missing = TRACKED_OBJECT_TYPES.filter((t) => !found.object_types.includes(t));
  const patch: Record<string, unknown> = {};
  if (missing.length) patch.object_types = [...found.object_types, ...missing].sort();
  if (found.required) patch.required = false;
  return Object.keys(patch).length ? patch : null;
}

export function desiredWebhook(id: TrackingIdentity, payloadUrl: string, secret: string) {
  return {
    name: webhookName(id),
    description: 'netbox-prefix-sync: prefix changes for gaiia Network Site IP Blocks',
    payload_url: payloadUrl,
    http_method: 'POST',
    http_content_type: 'application/json',
    additional_headers: '',
    // Empty = NetBox's default JSON body, the shape the receiver parses.
    body_template: '',
    secret,
    ssl_verification: true,
    custom_fields: trackingValues(id),
  };
}

/** The fields of our webhook that differ from what they should be (including the secret, never shown). */
export function webhookRepair(found: NetBoxWebhook, desired: ReturnType<typeof desiredWebhook>): Record<string, unknown> | null {
  const patch: Record<string, unknown> = {};
  if (found.name !== desired.name) patch.name = desired.name;
  if (found.payload_url !== desired.payload_url) patch.payload_url = desired.payload_url;
  if (found.http_method !== desired.http_method) patch.http_method = desired.http_method;
  if (found.http_content_type !== desired.http_content_type) patch.http_content_type = desired.http_content_type;
  if ((found.additional_headers ?? '') !== '') patch.additional_headers = '';
  if ((found.body_template ?? '') !== '') patch.body_template = '';
  // A secret NetBox does not show cannot be compared: send ours so the receiver's check is sure to pass.
  if (found.secret !== desired.secret) patch.secret = desired.secret;
  if (found.ssl_verification !== desired.ssl_verification) patch.ssl_verification = desired.ssl_verification;
  if (!carriesTracking(found, desired.custom_fields)) patch.custom_fields = desired.custom_fields;
  return Object.keys(patch).length ? patch : null;
}

export function desiredEventRule(id: TrackingIdentity, kind: EventRuleKind, webhookId: number) {
  return {
    name: eventRuleName(id, kind),
    description:
      kind === 'prefixChanges'
        ? 'netbox-prefix-sync: prefix created, updated or deleted'
        : 'netbox-prefix-sync: site deleted (its IP Blocks are removed)',
    object_types: kind === 'prefixChanges' ? ['ipam.prefix'] : ['dcim.site'],
    event_types: kind === 'prefixChanges' ? ['object_created', 'object_updated', 'object_deleted'] : ['object_deleted'],
    enabled: true,
    conditions: null,
    action_type: 'webhook',
    action_object_type: 'extras.webhook',
    action_object_id: webhookId,
    custom_fields: trackingValues(id),
  };
}

export function eventRuleRepair(found: NetBoxEventRule, desired: ReturnType<typeof desiredEventRule>): Record<string, unknown> | null {
  const patch: Record<string, unknown> = {};
  if (found.name !== desired.name) patch.name = desired.name;
  if (!sameSet(found.object_types, desired.object_types)) patch.object_types = desired.object_types;
  if (!sameSet(found.event_types, desired.event_types)) patch.event_types = desired.event_types;
  if (found.enabled !== desired.enabled) patch.enabled = desired.enabled;
  if (found.conditions !== null && found.conditions !== undefined) patch.conditions = null;
  if (found.action_type !== desired.action_type) patch.action_type = desired.action_type;
  if (found.action_object_type !== desired.action_object_type) patch.action_object_type = desired.action_object_type;
  if (found.action_object_id !== desired.action_object_id) patch.action_object_id = desired.action_object_id;
  if (!carriesTracking(found, desired.custom_fields)) patch.custom_fields = desired.custom_fields;
  return Object.keys(patch).length ? patch : null;
}

/** Which of our two rules a found rule is: by its exact name, else by what it watches. */
export function eventRuleKindOf(id: TrackingIdentity, rule: NetBoxEventRule): EventRuleKind | null {
  for (const kind of EVENT_RULE_KINDS) if (rule.name === eventRuleName(id, kind)) return kind;
  if (sameSet(rule.object_types, ['ipam.prefix'])) return 'prefixChanges';
  if (sameSet(rule.object_types, ['dcim.site'])) return 'siteDeletions';
  return null;
}

/** Ours = carries our instance id in `gaiia_instance_id`, or bears our (unique) name. */
export function isOurs(obj: { name: string; custom_fields: Record<string, unknown> }, names: string[], id: TrackingIdentity): boolean {
  return obj.custom_fields[INSTANCE_FIELD] === id.instanceKey || names.includes(obj.name);
}

/** True when the object has a non-empty value in that custom field (ours or another instance's). */
export function carriesValue(obj: { custom_fields: Record<string, unknown> }, field: string): boolean {
  const v = obj.custom_fields[field];
  return v !== null && v !== undefined && v !== '';
}

function carriesTracking(obj: { custom_fields: Record<string, unknown> }, values: Record<string, string>): boolean {
  return Object.entries(values).every(([k, v]) => obj.custom_fields[k] === v);
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}
