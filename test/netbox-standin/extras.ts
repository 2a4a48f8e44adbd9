/**
 * Webhooks, event rules and custom fields (`/api/extras/...`) with the validation NetBox applies.
 *
 * Sources (read, not copied): netbox/extras/models/models.py (Webhook, EventRule),
 * netbox/extras/models/customfields.py (CustomField.name validators),
 * netbox/extras/api/serializers_/events.py (fields; the webhook secret IS returned by the API).
 *
 * Modelled choices worth knowing:
 * - Deleting a webhook deletes the event rules that point at it: Webhook.events is a
 *   GenericRelation to EventRule (action_object), and Django cascades GenericRelation deletes.
 * - Custom field names: `^[a-z0-9_]+$` matched case-INsensitively (NetBox passes re.IGNORECASE,
 *   so `Owner_ID` is accepted), no double underscores, ≤ 50 chars, unique across NetBox.
 * - Unknown custom field names in `custom_fields` → 400 `{"__all__": ["Unknown field name 'x' in
 *   custom field data."]}` (CustomFieldsMixin.clean() raised through full_clean()).
 * - `action_object_id` must name an existing webhook (the stand-in checks this so tests fail
 *   loudly; NetBox itself validates the generic FK less strictly).
 */
import { NetBoxOperations } from './operations';
import { CustomFieldRecord, EventRuleRecord, NetBoxDataset, WebhookRecord } from './model';
import { ApiError, CUSTOM_FIELD_TYPES } from './shapes';
import { BodyReader } from './validate';
import { EVENT_TYPES } from './events';
import { NetBoxVersion } from './version';

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const ACTION_TYPES = ['webhook', 'script', 'notification'];

/** Object types that can carry custom fields / trigger event rules in the stand-in. */
const NETBOX_MODELS = ['dcim.site', 'dcim.location', 'dcim.region', 'dcim.sitegroup', 'ipam.prefix', 'ipam.role', 'ipam.vrf', 'ipam.vlan', 'tenancy.tenant'];
const CUSTOM_FIELD_OBJECT_TYPES = [...NETBOX_MODELS, 'extras.webhook', 'extras.eventrule'];
const EVENT_RULE_OBJECT_TYPES = NETBOX_MODELS;

export interface ExtrasDeps {
  version: NetBoxVersion;
  dataset: NetBoxDataset;
  operations: NetBoxOperations;
  clock: () => Date;
}

export class ExtrasStore {
  constructor(private readonly deps: ExtrasDeps) {}

  private get dataset(): NetBoxDataset {
    return this.deps.dataset;
  }

  // ---- Webhooks -------------------------------------------------------------------------------------

  saveWebhook(raw: unknown, existing: WebhookRecord | null, partial: boolean): WebhookRecord {
    const r = new BodyReader(raw, partial);
    const name = r.string('name', { required: true, max: 150, blank: false });
    if (name && this.dataset.webhooks.all().some((w) => w.id !== existing?.id && w.name === name)) r.fail('name', 'webhook with this name already exists.');
    const payloadUrl = r.string('payload_url', { required: true, max: 500, blank: false });
    const httpMethod = r.choice('http_method', HTTP_METHODS);
    const httpContentType = r.string('http_content_type', { max: 100, blank: false });
    const additionalHeaders = r.string('additional_headers');
    const bodyTemplate = r.string('body_template');
    const secret = r.string('secret', { max: 255 });
    const sslVerification = r.boolean('ssl_verification');
    const caFilePath = r.string('ca_file_path', { max: 4096, nullable: true });
    const description = r.string('description', { max: 200 });
    // Webhook.timeout exists from 4.7; earlier releases ignore the key like any unknown field.
    const timeout = this.deps.version.webhookHasTimeout ? r.integer('timeout', { nullable: true, min: 1, max: 3600 }) : undefined;
    const tags = r.tags();
    const customFields = r.object('custom_fields');
    r.done();
    if (customFields !== undefined) this.deps.operations.checkCustomFields('extras.webhook', customFields);

    const now = this.deps.clock();
    const merged: Omit<WebhookRecord, 'id'> = {
      name: name ?? existing?.name ?? '',
      description: description ?? existing?.description ?? '',
      payloadUrl: payloadUrl ?? existing?.payloadUrl ?? '',
      httpMethod: httpMethod ?? existing?.httpMethod ?? 'POST',
      httpContentType: httpContentType ?? existing?.httpContentType ?? 'application/json',
      additionalHeaders: additionalHeaders ?? existing?.additionalHeaders ?? '',
      bodyTemplate: bodyTemplate ?? existing?.bodyTemplate ?? '',
      secret: secret ?? existing?.secret ?? '',
      sslVerification: sslVerification ?? existing?.sslVerification ?? true,
      caFilePath: caFilePath !== undefined ? caFilePath || null : existing?.caFilePath ?? null,
      timeout: timeout !== undefined ? timeout : existing?.timeout ?? null,
      customFieldData: this.mergeCustomFields('extras.webhook', existing?.customFieldData, customFields),
      tags: tags ?? existing?.tags ?? [],
      created: existing?.created ?? now,
      lastUpdated: now,
    };
    if (!merged.sslVerification && merged.caFilePath) {
      throw ApiError.field('ca_file_path', 'Do not specify a CA certificate file if SSL verification is disabled.');
    }
    if (existing) {
      const row = { ...merged, id: existing.id };
      this.dataset.webhooks.replace(row);
      return row;
    }
    return this.dataset.webhooks.insert((id) => ({ ...merged, id }));
  }

  deleteWebhook(id: number): void {
    if (!this.dataset.webhooks.delete(id)) throw ApiError.notFound('Webhook');
    for (const rule of this.dataset.eventRules.all().filter((e) => e.actionObjectType === 'extras.webhook' && e.actionObjectId === id)) {
      this.dataset.eventRules.delete(rule.id);
    }
  }

  // ---- Event rules ----------------------------------------------------------------------------------

  saveEventRule(raw: unknown, existing: EventRuleRecord | null, partial: boolean): EventRuleRecord {
    const r = new BodyReader(raw, partial);
    const name = r.string('name', { required: true, max: 150, blank: false });
    if (name && this.dataset.eventRules.all().some((e) => e.id !== existing?.id && e.name === name)) r.fail('name', 'event rule with this name already exists.');
    const objectTypes = r.stringList('object_types', { required: true, allowEmpty: false });
    for (const t of objectTypes ?? []) {
      if (!/^\w+\.\w+$/.test(t)) r.fail('object_types', "Invalid value. Specify a content type as '<app_label>.<model_name>'.");
      else if (!EVENT_RULE_OBJECT_TYPES.includes(t)) r.fail('object_types', `Invalid content type: ${t}`);
    }
    const eventTypes = r.stringList('event_types', { required: true, allowEmpty: false });
    const badEventTypes: Record<string, string[]> = {};
    (eventTypes ?? []).forEach((t, i) => {
      if (!EVENT_TYPES.includes(t)) badEventTypes[String(i)] = [`"${t}" is not a valid choice.`];
    });
    if (Object.keys(badEventTypes).length) r.failNested('event_types', badEventTypes);
    const enabled = r.boolean('enabled');
    const actionType = r.choice('action_type', ACTION_TYPES, { required: true });
    const actionObjectType = r.string('action_object_type', { nullable: true });
    const actionObjectId = r.integer('action_object_id', { nullable: true });
    const description = r.string('description', { max: 200 });
    const conditions = r.has('conditions') ? r.body.conditions : undefined;
    if (conditions !== undefined && conditions !== null && (typeof conditions !== 'object' || Array.isArray(conditions))) {
      r.fail('conditions', 'Ruleset must be a dictionary, not list.');
    }
    const tags = r.tags();
    const customFields = r.object('custom_fields');
    r.done();

    const finalObjectType = actionObjectType !== undefined ? actionObjectType : existing?.actionObjectType ?? null;
    const finalObjectId = actionObjectId !== undefined ? actionObjectId : existing?.actionObjectId ?? null;
    const finalActionType = actionType ?? existing?.actionType ?? 'webhook';
    if (finalActionType === 'webhook') {
      if (finalObjectType !== 'extras.webhook') throw ApiError.field('action_object_type', `Invalid content type: ${finalObjectType}`);
      if (finalObjectId === null || !this.dataset.webhooks.has(finalObjectId)) {
        throw ApiError.field('action_object_id', `Related object not found using the provided numeric ID: ${finalObjectId}`);
      }
    }
    if (customFields !== undefined) this.deps.operations.checkCustomFields('extras.eventrule', customFields);

    const now = this.deps.clock();
    const merged: Omit<EventRuleRecord, 'id'> = {
      name: name ?? existing?.name ?? '',
      description: description ?? existing?.description ?? '',
      objectTypes: objectTypes ?? existing?.objectTypes ?? [],
      enabled: enabled ?? existing?.enabled ?? true,
      eventTypes: eventTypes ?? existing?.eventTypes ?? [],
      conditions: conditions !== undefined ? conditions : existing?.conditions ?? null,
      actionType: finalActionType,
      actionObjectType: finalObjectType ?? '',
      actionObjectId: finalObjectId,
      customFieldData: this.mergeCustomFields('extras.eventrule', existing?.customFieldData, customFields),
      tags: tags ?? existing?.tags ?? [],
      created: existing?.created ?? now,
      lastUpdated: now,
    };
    if (existing) {
      const row = { ...merged, id: existing.id };
      this.dataset.eventRules.replace(row);
      return row;
    }
    return this.dataset.eventRules.insert((id) => ({ ...merged, id }));
  }

  deleteEventRule(id: number): void {
    if (!this.dataset.eventRules.delete(id)) throw ApiError.notFound('EventRule');
  }

  // ---- Custom fields ----------------------------------------------------------------------------------

  saveCustomField(raw: unknown, existing: CustomFieldRecord | null, partial: boolean): CustomFieldRecord {
    const r = new BodyReader(raw, partial);
    const name = r.string('name', { required: true, max: 50, blank: false });
    if (name !== undefined && name !== null && name.length <= 50) {
      if (!/^[a-z0-9_]+$/i.test(name)) r.fail('name', 'Only alphanumeric characters and underscores are allowed.');
      if (name.includes('__')) r.fail('name', 'Double underscores are not permitted in custom field names.');
      if (this.dataset.customFields.all().some((cf) => cf.id !== existing?.id && cf.name === name)) r.fail('name', 'custom field with this name already exists.');
    }
    const type = r.choice('type', Object.keys(CUSTOM_FIELD_TYPES));
    const objectTypes = r.stringList('object_types', { required: true, allowEmpty: false });
    for (const t of objectTypes ?? []) {
      if (!CUSTOM_FIELD_OBJECT_TYPES.includes(t)) r.fail('object_types', `Invalid content type: ${t}`);
    }
    const label = r.string('label', { max: 50 });
    const groupName = r.string('group_name', { max: 50 });
    const description = r.string('description', { max: 200 });
    const required = r.boolean('required');
    const unique = r.boolean('unique');
    const filterLogic = r.choice('filter_logic', ['disabled', 'loose', 'exact']);
    const weight = r.integer('weight', { min: 0 });
    const searchWeight = r.integer('search_weight', { min: 0 });
    const validationMinimum = r.integer('validation_minimum', { nullable: true });
    const validationMaximum = r.integer('validation_maximum', { nullable: true });
    const validationRegex = r.string('validation_regex', { max: 500 });
    const uiVisible = r.choice('ui_visible', ['always', 'if-set', 'hidden']);
    const uiEditable = r.choice('ui_editable', ['yes', 'no', 'hidden']);
    const isCloneable = r.boolean('is_cloneable');
    const comments = r.string('comments');
    const dflt = r.has('default') ? r.body.default : undefined;
    r.done();

    const now = this.deps.clock();
    const merged: Omit<CustomFieldRecord, 'id'> = {
      name: name ?? existing?.name ?? '',
      label: label ?? existing?.label ?? '',
      type: type ?? existing?.type ?? 'text',
      objectTypes: objectTypes ?? existing?.objectTypes ?? [],
      groupName: groupName ?? existing?.groupName ?? '',
      description: description ?? existing?.description ?? '',
      required: required ?? existing?.required ?? false,
      unique: unique ?? existing?.unique ?? false,
      filterLogic: filterLogic ?? existing?.filterLogic ?? 'loose',
      default: dflt !== undefined ? dflt : existing?.default ?? null,
      weight: weight ?? existing?.weight ?? 100,
      searchWeight: searchWeight ?? existing?.searchWeight ?? 1000,
      validationMinimum: validationMinimum !== undefined ? validationMinimum : existing?.validationMinimum ?? null,
      validationMaximum: validationMaximum !== undefined ? validationMaximum : existing?.validationMaximum ?? null,
      validationRegex: validationRegex ?? existing?.validationRegex ?? '',
      uiVisible: uiVisible ?? existing?.uiVisible ?? 'always',
      uiEditable: uiEditable ?? existing?.uiEditable ?? 'yes',
      isCloneable: isCloneable ?? existing?.isCloneable ?? false,
      comments: comments ?? existing?.comments ?? '',
      created: existing?.created ?? now,
      lastUpdated: now,
    };
    if (existing) {
      const row = { ...merged, id: existing.id };
      this.dataset.customFields.replace(row);
      if (existing.name !== row.name) this.renameCustomFieldData(existing.name, row.name);
      return row;
    }
    return this.dataset.customFields.insert((id) => ({ ...merged, id }));
  }

  /** NetBox removes a deleted field's key from every object's custom_field_data. */
  deleteCustomField(id: number): void {
    const cf = this.dataset.customFields.delete(id);
    if (!cf) throw ApiError.notFound('CustomField');
    this.renameCustomFieldData(cf.name, null);
  }

  private renameCustomFieldData(from: string, to: string | null): void {
    const tables = [this.dataset.webhooks, this.dataset.eventRules, this.dataset.sites, this.dataset.prefixes, this.dataset.roles];
    for (const table of tables) {
      for (const row of table.all()) {
        if (!(from in row.customFieldData)) continue;
        const { [from]: value, ...rest } = row.customFieldData;
        row.customFieldData = to === null ? rest : { ...rest, [to]: value };
      }
    }
  }

  private mergeCustomFields(objectType: string, existing: Record<string, unknown> | undefined, incoming: Record<string, unknown> | undefined): Record<string, unknown> {
    if (!existing) return this.deps.operations.withCustomFieldDefaults(objectType, incoming ?? {});
    return { ...existing, ...(incoming ?? {}) };
  }
}

/**
 * `cf_<name>=value` list filters. Text-like fields use the field's filter_logic (default `loose` =
 * case-insensitive contains; `exact`; `disabled` ignores the parameter), other types match exactly.
 */
export function customFieldFilter(
  dataset: NetBoxDataset,
  objectType: string,
  query: Record<string, string[]>,
): ((data: Record<string, unknown>) => boolean) | null {
  const tests: Array<(data: Record<string, unknown>) => boolean> = [];
  for (const cf of dataset.customFieldsFor(objectType)) {
    const values = query[`cf_${cf.name}`];
    if (!values || cf.filterLogic === 'disabled') continue;
    const loose = cf.filterLogic === 'loose' && ['text', 'longtext', 'url'].includes(cf.type);
    tests.push((data) => {
      const actual = data[cf.name];
      if (actual === null || actual === undefined) return values.includes('null');
      const text = typeof actual === 'string' ? actual : JSON.stringify(actual);
      return values.some((v) => (loose ? text.toLowerCase().includes(v.toLowerCase()) : text === v));
    });
  }
  return tests.length ? (data) => tests.every((t) => t(data)) : null;
}
