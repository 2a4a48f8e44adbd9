import crypto from 'node:crypto';
import { z } from 'zod';
import type { Connections } from './connections';
import {
  InvalidInputError,
  NetBoxObjectConflictError,
  NetBoxRequestRejectedError,
  PrefixSyncDisabledError,
  UnexpectedNetBoxResponseError,
} from './errors';
import type { NetBoxClient } from './netbox/client';
import { describeZodError } from './netbox/schemas';
import { redactText } from './netbox/redact';
import {
  carriesValue,
  customFieldRepair,
  desiredCustomField,
  desiredEventRule,
  desiredWebhook,
  EVENT_RULE_KINDS,
  eventRuleKindOf,
  eventRuleName,
  eventRuleRepair,
  INSTANCE_FIELD,
  isOurs,
  netboxCustomFieldSchema,
  netboxEventRuleSchema,
  netboxWebhookSchema,
  payloadUrlFor,
  TRACKED_OBJECT_TYPES,
  TRACKING_FIELDS,
  webhookName,
  webhookRepair,
  type EventRuleKind,
  type NetBoxCustomField,
  type NetBoxEventRule,
  type NetBoxWebhook,
  type TrackingIdentity,
} from './netbox/webhook-objects';
import type { NetBoxInstance, WebhookRegistration } from './store/instances';
import { requireSyncEnabled } from './settings';

/**
 * The steps of registering and removing an instance's NetBox webhook, one activity each. Every step first
 * looks for what already exists (by the tracking custom fields, then by name), so a retried or re-run step
 * adopts what an earlier attempt made instead of making it twice. Inputs and results carry ids only: the
 * webhook secret is generated, stored and sent to NetBox inside `ensureWebhook`, and never returned.
 */

const WEBHOOKS = '/api/extras/webhooks/';
const EVENT_RULES = '/api/extras/event-rules/';
const CUSTOM_FIELDS = '/api/extras/custom-fields/';

export interface WebhookRegistrationStart {
  instanceId: number;
  netboxVersion: string;
  payloadUrl: string;
}

export interface StepResult {
  /** NetBox ids of the objects this step made or adopted, in a stable order. */
  ids: number[];
  created: string[];
  /** "object name: field, field" for each object whose fields were put back. */
  repaired: string[];
  deleted: string[];
}

export interface CustomFieldRemovalResult extends StepResult {
  /** Why a tracking field was left in place. */
  kept: string[];
}

export function createWebhookRegistrationActivities(c: Connections) {
  async function context(instanceId: number, requireEnabled: boolean | null) {
    const instance = await c.instances.requireById(instanceId);
    if (requireEnabled === true) requireSyncEnabled(instance, 'registering its NetBox webhook');
    if (requireEnabled === false) requireSyncDisabled(instance);
    const identity: TrackingIdentity = { tenantId: c.config.gaiia.tenantId, instanceKey: await c.instances.trackingIdFor(instance.id) };
    const netbox = await c.netboxFor(instance);
    return { instance, identity, netbox };
  }

  return {
    /** Reads NetBox's version (event rules with `event_types` need 4.1+) and the instance's tracking id. */
    async beginWebhookRegistration(input: { instanceId: number }): Promise<WebhookRegistrationStart> {
      const { instance, netbox } = await context(input.instanceId, true);
      const status = await netbox.status();
      await c.instances.setNetBoxVersion(instance.id, status.version);
      const [major, minor] = status.apiVersion.split('.').map(Number);
      if (major < 4 || (major === 4 && minor < 1)) {
        throw new InvalidInputError(
          `NetBox instance '${instance.name}' runs NetBox ${status.version}; registering the webhook needs NetBox 4.1 or later (event rules with event_types)`,
        );
      }
      return { instanceId: instance.id, netboxVersion: status.version, payloadUrl: payloadUrlFor(c.config.receiver.publicUrl, instance.id) };
    },

    /** Makes sure `gaiia_tenant_id` and `gaiia_instance_id` exist as text fields on webhooks and event rules. */
    async ensureTrackingCustomFields(input: { instanceId: number }): Promise<StepResult> {
      const { netbox } = await context(input.instanceId, true);
      const result = emptyResult();
      for (const name of TRACKING_FIELDS) {
        let field = await findCustomField(netbox, name);
        if (!field) {
          try {
            field = parse(netboxCustomFieldSchema, (await netbox.request('POST', CUSTOM_FIELDS, { body: desiredCustomField(name) })).data, CUSTOM_FIELDS);
            result.created.push(`custom field ${name}`);
          } catch (err) {
            // Another instance's registration may have created it a moment ago: NetBox then says the name is taken.
            field = err instanceof NetBoxRequestRejectedError && err.status === 400 ? await findCustomField(netbox, name) : undefined;
            if (!field) throw err;
          }
        }
        if (field.type !== 'text') {
          throw new NetBoxObjectConflictError(
            `NetBox already has a custom field '${name}' of type '${field.type}', but this integration needs it to be a text field; ` +
              `rename or delete that field in NetBox (Customization > Custom Fields) and enable prefix sync again`,
          );
        }
        const patch = customFieldRepair(field);
        if (patch) {
          await netbox.request('PATCH', `${CUSTOM_FIELDS}${field.id}/`, { body: patch });
          result.repaired.push(`custom field ${name}: ${Object.keys(patch).join(', ')}`);
        }
        result.ids.push(field.id);
      }
      return result;
    },

    /**
     * Creates or repairs the instance's webhook. The secret is the one already stored (so the receiver keeps
     * verifying), or a new random one written to the store before NetBox ever sees it.
     */
    async ensureWebhook(input: { instanceId: number; rotateSecret?: boolean }): Promise<StepResult> {
      const { instance, identity, netbox } = await context(input.instanceId, true);
      let secret = input.rotateSecret ? null : await c.instances.webhookSecretFor(instance.id);
      if (!secret) {
        secret = crypto.randomBytes(32).toString('hex');
        await c.instances.setWebhookSecret(instance.id, secret);
      }
      try {
        const desired = desiredWebhook(identity, payloadUrlFor(c.config.receiver.publicUrl, instance.id), secret);
        const result = emptyResult();
        const [keep, ...duplicates] = await findOurWebhooks(netbox, identity, instance);
        for (const extra of duplicates) {
          await deleteObject(netbox, WEBHOOKS, extra.id);
          result.deleted.push(`duplicate webhook ${extra.id} '${extra.name}'`);
        }
        if (keep) {
          const patch = webhookRepair(keep, desired);
          if (patch) {
            await netbox.request('PATCH', `${WEBHOOKS}${keep.id}/`, { body: patch });
            result.repaired.push(`webhook '${desired.name}': ${Object.keys(patch).join(', ')}`);
          }
          result.ids.push(keep.id);
        } else {
          const created = parse(netboxWebhookSchema, (await netbox.request('POST', WEBHOOKS, { body: desired })).data, WEBHOOKS);
          result.created.push(`webhook '${desired.name}'`);
          result.ids.push(created.id);
        }
        return result;
      } catch (err) {
        throw withoutSecret(err, secret);
      }
    },

    /** Creates or repairs the two event rules (prefix created/updated/deleted; site deleted) firing our webhook. */
    async ensureEventRules(input: { instanceId: number; webhookId: number }): Promise<StepResult> {
      const { instance, identity, netbox } = await context(input.instanceId, true);
      const result = emptyResult();
      const byKind = new Map<EventRuleKind, NetBoxEventRule>();
      for (const rule of await findOurEventRules(netbox, identity, instance)) {
        const kind = eventRuleKindOf(identity, rule);
        if (kind && !byKind.has(kind)) byKind.set(kind, rule);
        else {
          await deleteObject(netbox, EVENT_RULES, rule.id);
          result.deleted.push(`extra event rule ${rule.id} '${rule.name}'`);
        }
      }
      for (const kind of EVENT_RULE_KINDS) {
        const desired = desiredEventRule(identity, kind, input.webhookId);
        const found = byKind.get(kind);
        if (found) {
          const patch = eventRuleRepair(found, desired);
          if (patch) {
            await netbox.request('PATCH', `${EVENT_RULES}${found.id}/`, { body: patch });
            result.repaired.push(`event rule '${desired.name}': ${Object.keys(patch).join(', ')}`);
          }
          result.ids.push(found.id);
        } else {
          const created = parse(netboxEventRuleSchema, (await netbox.request('POST', EVENT_RULES, { body: desired })).data, EVENT_RULES);
          result.created.push(`event rule '${desired.name}'`);
          result.ids.push(created.id);
        }
      }
      return result;
    },

    /** Saves what NetBox now holds for the instance (ids and URL only), for the config view and for removal. */
    async recordWebhookRegistration(input: {
      instanceId: number;
      webhookId: number;
      eventRuleIds: number[];
      customFieldIds: number[];
    }): Promise<WebhookRegistration> {
      const instance = await c.instances.requireById(input.instanceId);
      const registration: WebhookRegistration = {
        webhookId: input.webhookId,
        eventRuleIds: input.eventRuleIds,
        customFieldIds: input.customFieldIds,
        payloadUrl: payloadUrlFor(c.config.receiver.publicUrl, instance.id),
        registeredAt: new Date().toISOString(),
      };
      await c.instances.setWebhookRegistration(instance.id, registration);
      return registration;
    },

    /** Deletes the instance's event rules (ours by tracking field, name or stored id); already gone is fine. */
    async deleteOurEventRules(input: { instanceId: number }): Promise<StepResult> {
      const { instance, identity, netbox } = await context(input.instanceId, false);
      const result = emptyResult();
      for (const rule of await findOurEventRules(netbox, identity, instance)) {
        if (await deleteObject(netbox, EVENT_RULES, rule.id)) result.deleted.push(`event rule '${rule.name}'`);
        result.ids.push(rule.id);
      }
      return result;
    },

    /** Deletes the instance's webhook; already gone is fine. */
    async deleteOurWebhook(input: { instanceId: number }): Promise<StepResult> {
      const { instance, identity, netbox } = await context(input.instanceId, false);
      const result = emptyResult();
      for (const hook of await findOurWebhooks(netbox, identity, instance)) {
        if (await deleteObject(netbox, WEBHOOKS, hook.id)) result.deleted.push(`webhook '${hook.name}'`);
        result.ids.push(hook.id);
      }
      return result;
    },

    /**
     * Deletes a tracking custom field only when nothing else needs it: no webhook or event rule (another
     * instance's or tenant's) still carries a value in it, and nobody added it to other object types.
     */
    async removeUnusedTrackingCustomFields(input: { instanceId: number }): Promise<CustomFieldRemovalResult> {
      const { netbox } = await context(input.instanceId, false);
      const result: CustomFieldRemovalResult = { ...emptyResult(), kept: [] };
      const carriers: Array<{ name: string; custom_fields: Record<string, unknown> }> = [];
      for await (const raw of netbox.paginate(WEBHOOKS, {})) carriers.push(parse(netboxWebhookSchema, raw, WEBHOOKS));
      for await (const raw of netbox.paginate(EVENT_RULES, {})) carriers.push(parse(netboxEventRuleSchema, raw, EVENT_RULES));
      for (const name of TRACKING_FIELDS) {
        const field = await findCustomField(netbox, name);
        if (!field) continue;
        const users = carriers.filter((o) => carriesValue(o, name));
        const otherTypes = field.object_types.filter((t) => !TRACKED_OBJECT_TYPES.includes(t));
        if (users.length) {
          result.kept.push(`custom field ${name}: still set on ${users.length} other webhook(s)/event rule(s), e.g. '${users[0].name}'`);
        } else if (otherTypes.length) {
          result.kept.push(`custom field ${name}: also assigned to ${otherTypes.join(', ')} by someone else`);
        } else {
          if (await deleteObject(netbox, CUSTOM_FIELDS, field.id)) result.deleted.push(`custom field ${name}`);
          result.ids.push(field.id);
        }
      }
      return result;
    },

    /** Forgets the registration and the webhook secret, once NetBox no longer holds our webhook. */
    async forgetWebhookRegistration(input: { instanceId: number }): Promise<void> {
      const instance = await c.instances.requireById(input.instanceId);
      requireSyncDisabled(instance);
      await c.instances.setWebhookRegistration(instance.id, null);
      await c.instances.setWebhookSecret(instance.id, null);
    },
  };
}

function requireSyncDisabled(instance: NetBoxInstance): void {
  if (instance.prefixSyncEnabled) {
    throw new PrefixSyncDisabledError(
      `instance '${instance.name}' has prefix sync enabled, so its NetBox webhook stays; disable prefix sync instead ` +
        `(cli: sync disable --instance '${instance.name}'), which removes the webhook`,
    );
  }
}

function emptyResult(): StepResult {
  return { ids: [], created: [], repaired: [], deleted: [] };
}

/** The exact-name match among NetBox's answer (the `name` filter is exact in NetBox, but a proxy or plugin may differ). */
async function findCustomField(netbox: NetBoxClient, name: string): Promise<NetBoxCustomField | undefined> {
  for await (const raw of netbox.paginate(CUSTOM_FIELDS, { name })) {
    const field = parse(netboxCustomFieldSchema, raw, CUSTOM_FIELDS);
    if (field.name === name) return field;
  }
  return undefined;
}

/**
 * Our objects of one kind, found three ways: by `cf_gaiia_instance_id`, by our unique names, and by the ids
 * stored at the last registration. Every candidate is checked here, because NetBox ignores a filter on a
 * custom field that does not exist (it would then list everything).
 */
async function findOurs<T extends { id: number; name: string; custom_fields: Record<string, unknown> }>(
  netbox: NetBoxClient,
  path: string,
  schema: z.ZodType<T>,
  names: string[],
  storedIds: number[],
  identity: TrackingIdentity,
): Promise<T[]> {
  const found = new Map<number, T>();
  const consider = (raw: unknown) => {
    const obj = parse(schema, raw, path);
    if (isOurs(obj, names, identity)) found.set(obj.id, obj);
  };
  try {
    for await (const raw of netbox.paginate(path, { [`cf_${INSTANCE_FIELD}`]: identity.instanceKey })) consider(raw);
  } catch (err) {
    // A NetBox that rejects the custom field filter (field missing, strict filtering) still has the name lookup.
    if (!(err instanceof NetBoxRequestRejectedError && err.status === 400)) throw err;
  }
  for await (const raw of netbox.paginate(path, { name: names })) consider(raw);
  for (const id of storedIds.filter((i) => !found.has(i))) {
    const res = await netbox.request('GET', `${path}${id}/`, { allowStatuses: [404] });
    if (res.status !== 404) consider(res.data);
  }
  // Oldest first: the one kept when duplicates exist is the one every earlier run pointed at.
  return [...found.values()].sort((a, b) => a.id - b.id);
}

function findOurWebhooks(netbox: NetBoxClient, identity: TrackingIdentity, instance: NetBoxInstance): Promise<NetBoxWebhook[]> {
  const stored = instance.webhook?.webhookId ? [instance.webhook.webhookId] : [];
  return findOurs(netbox, WEBHOOKS, netboxWebhookSchema, [webhookName(identity)], stored, identity);
}

function findOurEventRules(netbox: NetBoxClient, identity: TrackingIdentity, instance: NetBoxInstance): Promise<NetBoxEventRule[]> {
  const names = EVENT_RULE_KINDS.map((k) => eventRuleName(identity, k));
  return findOurs(netbox, EVENT_RULES, netboxEventRuleSchema, names, instance.webhook?.eventRuleIds ?? [], identity);
}

/** DELETE that treats 404 as done; true when this call deleted it. */
async function deleteObject(netbox: NetBoxClient, path: string, id: number): Promise<boolean> {
  const res = await netbox.request('DELETE', `${path}${id}/`, { allowStatuses: [404] });
  return res.status !== 404;
}

function parse<T>(schema: z.ZodType<T>, raw: unknown, path: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new UnexpectedNetBoxResponseError(
    `NetBox returned something this integration cannot read from ${path}: ${describeZodError(parsed.error)}; is this a NetBox 4.1-4.7 API?`,
  );
}

/** The same error with the webhook secret taken out of its message (NetBox may echo request fields back). */
function withoutSecret(err: unknown, secret: string): unknown {
  if (!(err instanceof Error) || !err.message.includes(secret)) return err;
  err.message = redactText(err.message, [secret]);
  if (err.stack) err.stack = redactText(err.stack, [secret]);
  return err;
}
