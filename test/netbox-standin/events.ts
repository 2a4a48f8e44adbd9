/**
 * Object-change events and event-rule evaluation, as NetBox does after a request commits
 * (netbox/extras/events.py): changes are collected per request, merged to one event per object,
 * matched against enabled event rules, and each matching webhook rule becomes a queued delivery.
 */
import { EventRuleRecord, NetBoxDataset } from './model';
import { EventKind, Json, JsonObject } from './shapes';

export type ObjectType = 'ipam.prefix' | 'dcim.site' | 'ipam.role';

export interface ObjectChange {
  objectType: ObjectType;
  objectId: number;
  event: EventKind;
  /** REST representation with relative URLs; for deletes, as it was just before deletion. */
  data: JsonObject;
  prechange: JsonObject | null;
  postchange: JsonObject | null;
}

export interface RequestInfo {
  id: string;
  method: string;
  path: string;
  username: string;
}

/** An event ready to be handed to a rule's webhook. */
export interface QueuedEvent extends ObjectChange {
  timestamp: Date;
  request: RequestInfo;
}

const EVENT_TYPE: Record<EventKind, string> = {
  created: 'object_created',
  updated: 'object_updated',
  deleted: 'object_deleted',
};

export const EVENT_TYPES = ['object_created', 'object_updated', 'object_deleted', 'job_started', 'job_completed', 'job_failed', 'job_errored'];

/**
 * Collects the changes one request makes. NetBox keeps one event per object per request: a later
 * change to the same object replaces the data/postchange but keeps the first prechange, and an
 * object created in the same request stays `created`.
 */
export class ChangeBatch {
  private changes = new Map<string, ObjectChange>();

  add(change: ObjectChange): void {
    const key = `${change.objectType}:${change.objectId}`;
    const earlier = this.changes.get(key);
    if (!earlier) {
      this.changes.set(key, change);
      return;
    }
    if (earlier.event === 'created' && change.event === 'deleted') {
      this.changes.delete(key);
      return;
    }
    this.changes.set(key, {
      ...change,
      event: earlier.event === 'created' ? 'created' : change.event,
      prechange: earlier.prechange,
    });
  }

  get all(): ObjectChange[] {
    return Array.from(this.changes.values());
  }
}

/** Enabled webhook rules whose object_types and event_types cover this change. */
export function matchingRules(dataset: NetBoxDataset, change: ObjectChange): EventRuleRecord[] {
  const eventType = EVENT_TYPE[change.event];
  return dataset.eventRules
    .all()
    .filter(
      (rule) =>
        rule.enabled &&
        rule.actionType === 'webhook' &&
        rule.objectTypes.includes(change.objectType) &&
        rule.eventTypes.includes(eventType) &&
        conditionsMatch(rule.conditions, change.data),
    );
}

/**
 * A subset of NetBox's ConditionSet (netbox/extras/conditions.py): `{attr, value, op?, negate?}`
 * leaves (ops eq, gt, gte, lt, lte, in, contains, regex) combined with `{and: [...]}` / `{or: [...]}`.
 * `attr` is a dotted path into the object's REST data (e.g. `status.value`). Empty/null conditions
 * match everything.
 */
export function conditionsMatch(conditions: unknown, data: JsonObject): boolean {
  if (conditions === null || conditions === undefined) return true;
  if (typeof conditions !== 'object') return true;
  const c = conditions as Record<string, unknown>;
  if (Array.isArray(c.and)) return c.and.every((sub) => conditionsMatch(sub, data));
  if (Array.isArray(c.or)) return c.or.some((sub) => conditionsMatch(sub, data));
  if (typeof c.attr !== 'string') return Object.keys(c).length === 0;
  let value: Json | undefined = data;
  for (const part of c.attr.split('.')) {
    value = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[part] : undefined;
  }
  const expected = c.value as Json;
  let result: boolean;
  switch (c.op ?? 'eq') {
    case 'gt':
      result = Number(value) > Number(expected);
      break;
    case 'gte':
      result = Number(value) >= Number(expected);
      break;
    case 'lt':
      result = Number(value) < Number(expected);
      break;
    case 'lte':
      result = Number(value) <= Number(expected);
      break;
    case 'in':
      result = Array.isArray(expected) && expected.some((e) => JSON.stringify(e) === JSON.stringify(value));
      break;
    case 'contains':
      result = Array.isArray(value)
        ? value.some((e) => JSON.stringify(e) === JSON.stringify(expected))
        : typeof value === 'string' && value.includes(String(expected));
      break;
    case 'regex':
      result = typeof value === 'string' && new RegExp(String(expected)).test(value);
      break;
    default:
      result = JSON.stringify(value ?? null) === JSON.stringify(expected ?? null);
  }
  return c.negate ? !result : result;
}
