/**
 * The webhook body schema alone: every NetBox shape from 4.1 to 4.7 (shared/reference/netbox-api.md, "What NetBox
 * sends") reads to the same change notice, and anything else is refused with a message naming the field.
 */
import { parseWebhookPayload, WebhookPayloadError } from '../activities/netbox/webhook-payload';

const prefixData41 = {
  id: 7, url: '/api/ipam/prefixes/7/', display: '10.0.0.0/24', family: { value: 4, label: 'IPv4' }, prefix: '10.0.0.0/24',
  site: { id: 2, url: '/api/dcim/sites/2/', display: 'DM-NYC', name: 'DM-NYC', slug: 'dm-nyc', description: '' },
  vrf: null, tenant: null, vlan: null, status: { value: 'active', label: 'Active' }, role: null, description: 'lan',
  last_updated: '2025-01-01T10:00:00.000000Z',
};
const prefixData42 = {
  ...Object.fromEntries(Object.entries(prefixData41).filter(([k]) => k !== 'site')),
  scope_type: 'dcim.site', scope_id: 2, scope: prefixData41.site, _site: 2,
};
const siteData = { id: 2, url: '/api/dcim/sites/2/', display: 'DM-NYC', name: 'DM-NYC', slug: 'dm-nyc', status: { value: 'active', label: 'Active' } };
const timestamp = '2025-01-01T10:00:00.123456+00:00';

/** The default body of each version, as NetBox's `serialize_for_event` + webhook context build it. */
function body(version: string, event: string, objectType: 'ipam.prefix' | 'dcim.site', data: object, prechange: object | null = null) {
  const minor = Number(version.split('.')[1]);
  const out: Record<string, unknown> = { event, timestamp };
  if (minor >= 4) out.object_type = objectType;
  if (minor < 5) out.model = objectType.split('.')[1];
  if (minor < 7) Object.assign(out, { username: 'admin', request_id: 'c0ffee' });
  out.data = data;
  if (minor >= 6) out.request = { id: 'c0ffee', method: 'PATCH', path: '/api/ipam/prefixes/7/', user: 'admin' };
  out.snapshots = { prechange, postchange: event === 'deleted' ? null : { id: (data as { id: number }).id } };
  return out;
}

test.each(['4.1', '4.2', '4.3', '4.4', '4.5', '4.6', '4.7'])('NetBox %s prefix and site bodies read the same', (version) => {
  const prefix = version === '4.1' ? prefixData41 : prefixData42;
  for (const event of ['created', 'updated', 'deleted'] as const) {
    expect(parseWebhookPayload(body(version, event, 'ipam.prefix', prefix))).toEqual({ objectType: 'prefix', objectId: 7, event, timestamp });
  }
  expect(parseWebhookPayload(body(version, 'deleted', 'dcim.site', siteData, { name: 'DM-NYC' }))).toEqual({
    objectType: 'site', objectId: 2, event: 'deleted', timestamp, siteNames: ['DM-NYC'],
  });
});

test('a renamed site names both its old and its new name', () => {
  expect(parseWebhookPayload(body('4.2', 'updated', 'dcim.site', siteData, { name: 'DM-Old' }))).toMatchObject({ siteNames: ['DM-NYC', 'DM-Old'] });
});

test('object_type wins over model when both are present (4.4)', () => {
  const b = { ...body('4.4', 'updated', 'ipam.prefix', prefixData42), model: 'device' };
  expect(parseWebhookPayload(b)).toMatchObject({ objectType: 'prefix' });
});

test.each([
  ['not an object', [1, 2], /JSON object/],
  ['no object kind', { event: 'created', timestamp, data: { id: 1 } }, /^object_type: required/],
  ['an unhandled object type', body('4.5', 'created', 'dcim.device' as 'dcim.site', { id: 1, name: 'x' }), /^object_type: "dcim.device" is not handled/],
  ['an unhandled model (4.1)', { ...body('4.1', 'created', 'ipam.prefix', prefixData41), model: 'ipaddress' }, /^model: "ipaddress" is not handled/],
  ['an unknown event', { ...body('4.2', 'updated', 'ipam.prefix', prefixData42), event: 'job_started' }, /^event:/],
  ['no timestamp', { ...body('4.2', 'updated', 'ipam.prefix', prefixData42), timestamp: undefined }, /^timestamp:/],
  ['no data', { ...body('4.2', 'updated', 'ipam.prefix', prefixData42), data: undefined }, /^data:/],
  ['a non-integer id', body('4.2', 'updated', 'ipam.prefix', { ...prefixData42, id: '7' }), /^data\.id:/],
  ['a prefix without prefix', body('4.2', 'updated', 'ipam.prefix', { id: 7 }), /^data\.prefix:/],
  ['a site without name', body('4.2', 'deleted', 'dcim.site', { id: 2 }), /^data\.name:/],
  // What reaches the Temporal signal is bounded: a megabyte of it would fail every webhook sharing that signal.
  ['a timestamp longer than any NetBox writes', { ...body('4.2', 'updated', 'ipam.prefix', prefixData42), timestamp: 'x'.repeat(65) }, /^timestamp:/],
  ['a site name longer than NetBox allows', body('4.2', 'deleted', 'dcim.site', { ...siteData, name: 'x'.repeat(101) }), /^data\.name:/],
  ['an old site name longer than NetBox allows', body('4.2', 'updated', 'dcim.site', siteData, { name: 'x'.repeat(101) }), /^snapshots\.prechange\.name:/],
])('refuses %s, naming the field', (_name, input, message) => {
  expect(() => parseWebhookPayload(input)).toThrow(WebhookPayloadError);
  expect(() => parseWebhookPayload(input)).toThrow(message);
});

test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
  'an object type named like a built-in property (%s) is refused, not taken for a site',
  (kind) => {
    for (const field of ['object_type', 'model']) {
      const b = { event: 'deleted', timestamp, [field]: kind, data: { id: 2, name: 'DM-NYC', prefix: '10.0.0.0/8' } };
      expect(() => parseWebhookPayload(b)).toThrow(WebhookPayloadError);
      expect(() => parseWebhookPayload(b)).toThrow(new RegExp(`^${field}: "${kind}" is not handled`));
    }
  },
);

test('JSON.parse\'d "__proto__" keys neither pollute nor satisfy the schema', () => {
  const b = JSON.parse(`{"__proto__": {"object_type": "ipam.prefix"}, "event": "updated", "timestamp": "${timestamp}", "data": {"id": 7, "prefix": "10.0.0.0/24"}}`);
  expect(() => parseWebhookPayload(b)).toThrow(/^object_type: required/);
  expect(({} as Record<string, unknown>).object_type).toBeUndefined();
});
