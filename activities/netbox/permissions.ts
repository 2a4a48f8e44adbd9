/**
 * The NetBox permission a request needs, named in 403 messages so the operator knows what to grant.
 * Mirrors the README's token permission table.
 */
const ENDPOINT_MODELS: Array<[RegExp, string]> = [
  [/^\/api\/ipam\/prefixes\//, 'ipam.%s_prefix'],
  [/^\/api\/ipam\/roles\//, 'ipam.%s_role'],
  [/^\/api\/dcim\/sites\//, 'dcim.%s_site'],
  [/^\/api\/extras\/webhooks\//, 'extras.%s_webhook'],
  [/^\/api\/extras\/event-rules\//, 'extras.%s_eventrule'],
  [/^\/api\/extras\/custom-fields\//, 'extras.%s_customfield'],
];

const ACTIONS: Record<string, string> = { GET: 'view', POST: 'add', PUT: 'change', PATCH: 'change', DELETE: 'delete' };

export function permissionFor(method: string, path: string): string | undefined {
  const action = ACTIONS[method.toUpperCase()];
  const model = ENDPOINT_MODELS.find(([re]) => re.test(path));
  return action && model ? model[1].replace('%s', action) : undefined;
}

/** Every permission this integration needs, for messages and the README. */
export const REQUIRED_PERMISSIONS = [
  'ipam.view_prefix',
  'ipam.view_role',
  'dcim.view_site',
  'extras.view_webhook',
  'extras.add_webhook',
  'extras.change_webhook',
  'extras.delete_webhook',
  'extras.view_eventrule',
  'extras.add_eventrule',
  'extras.change_eventrule',
  'extras.delete_eventrule',
  'extras.view_customfield',
  'extras.add_customfield',
  'extras.change_customfield',
  'extras.delete_customfield',
];
