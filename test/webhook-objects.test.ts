/**
 * The desired state of our NetBox objects, the repair diffs and the redaction of credentials: pure functions,
 * no NetBox and no Temporal.
 */
import { redactBody, redactText, REDACTED } from '../activities/netbox/redact';
import {
  customFieldRepair,
  desiredEventRule,
  desiredWebhook,
  eventRuleKindOf,
  eventRuleRepair,
  isOurs,
  netboxEventRuleSchema,
  netboxWebhookSchema,
  payloadUrlFor,
  webhookName,
  webhookRepair,
} from '../activities/netbox/webhook-objects';

const id = { tenantId: 'acme', instanceKey: '4b1f0c9e-0000-4000-8000-000000000001' };
const other = { tenantId: 'acme', instanceKey: '4b1f0c9e-0000-4000-8000-000000000002' };

test('the payload URL is the receiver URL for the instance, whatever trailing slashes the config has', () => {
  expect(payloadUrlFor('https://sync.example.com/', 7)).toBe('https://sync.example.com/webhooks/netbox?instanceId=7');
});

test('names carry the instance tracking id, so two instances never want the same NetBox name', () => {
  expect(webhookName(id)).not.toBe(webhookName(other));
  expect(webhookName(id).length).toBeLessThanOrEqual(150);
  expect(desiredEventRule(id, 'prefixChanges', 1).name).not.toBe(desiredEventRule(id, 'siteDeletions', 1).name);
});

test('a webhook as NetBox returns it (choice objects, extra fields) is read, and only real differences are repaired', () => {
  const desired = desiredWebhook(id, 'http://r/webhooks/netbox?instanceId=1', 's3cret-value');
  const found = netboxWebhookSchema.parse({
    ...desired,
    id: 5,
    http_method: { value: 'POST', label: 'POST' },
    ca_file_path: null,
    tags: [],
    custom_fields: { ...desired.custom_fields, someone_elses: 'x' },
  });
  expect(webhookRepair(found, desired)).toBeNull();
  const tampered = { ...found, payload_url: 'http://elsewhere/', secret: 'changed', custom_fields: {} };
  expect(Object.keys(webhookRepair(tampered, desired) ?? {}).sort()).toEqual(['custom_fields', 'payload_url', 'secret']);
  // A NetBox that hides the secret cannot be compared: ours is sent.
  expect(webhookRepair({ ...found, secret: undefined }, desired)).toEqual({ secret: 's3cret-value' });
});

test('event rules: kind by name or by object types; repairs put back what was changed', () => {
  const desired = desiredEventRule(id, 'prefixChanges', 9);
  const found = netboxEventRuleSchema.parse({
    ...desired,
    id: 3,
    action_type: { value: 'webhook', label: 'Webhook' },
    event_types: ['object_deleted', 'object_updated', 'object_created'],
  });
  expect(eventRuleRepair(found, desired)).toBeNull();
  expect(eventRuleKindOf(id, found)).toBe('prefixChanges');
  expect(eventRuleKindOf(id, { ...found, name: 'renamed', object_types: ['dcim.site'] })).toBe('siteDeletions');
  expect(eventRuleRepair({ ...found, enabled: false, action_object_id: 4, event_types: ['object_created'] }, desired)).toEqual({
    enabled: true,
    action_object_id: 9,
    event_types: ['object_created', 'object_updated', 'object_deleted'],
  });
});

test('ours means our tracking id or our exact name; another instance or tenant is never ours', () => {
  const names = [webhookName(id)];
  expect(isOurs({ name: 'x', custom_fields: { gaiia_instance_id: id.instanceKey } }, names, id)).toBe(true);
  expect(isOurs({ name: webhookName(id), custom_fields: {} }, names, id)).toBe(true);
  expect(isOurs({ name: webhookName(other), custom_fields: { gaiia_instance_id: other.instanceKey } }, names, id)).toBe(false);
  // NetBox's default "loose" custom field filter is a contains match: a longer id containing ours is not ours.
  expect(isOurs({ name: 'y', custom_fields: { gaiia_instance_id: `${id.instanceKey}-copy` } }, names, id)).toBe(false);
});

test('custom field repair adds our object types and never removes anyone else’s', () => {
  expect(customFieldRepair({ id: 1, name: 'gaiia_tenant_id', type: 'text', object_types: ['dcim.site', 'extras.webhook'] })).toEqual({
    object_types: ['dcim.site', 'extras.eventrule', 'extras.webhook'],
  });
  expect(customFieldRepair({ id: 1, name: 'gaiia_tenant_id', type: 'text', object_types: ['extras.eventrule', 'extras.webhook'] })).toBeNull();
});

test('redaction hides credential fields and every occurrence of a known secret, including v2 token halves', () => {
  const token = 'nbt_abcdefghijkl.0123456789012345678901234567890123456789';
  const body = {
    results: [{ id: 1, name: 'hook', secret: 'hunter2-hunter2', payload_url: 'http://x' }],
    note: `header was Bearer ${token}`,
    other: 'half: 0123456789012345678901234567890123456789',
    key: '',
  };
  const out = JSON.stringify(redactBody(body, [token, null]));
  expect(out).not.toContain('hunter2');
  expect(out).not.toContain('0123456789012345678901234567890123456789');
  expect(out).not.toContain('abcdefghijkl');
  expect(out).toContain(REDACTED);
  expect(out).toContain('"payload_url":"http://x"');
  expect(redactText('failed: secret=abc123abc123', ['abc123abc123'])).toBe(`failed: secret=${REDACTED}`);
});
