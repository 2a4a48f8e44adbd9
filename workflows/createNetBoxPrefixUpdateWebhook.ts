import { ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { instanceNameFrom, PERMANENT_FAILURES } from './input';

// Each step is one or a few NetBox requests and safe to repeat: it finds what an earlier attempt made first.
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT_FAILURES },
});

export interface CreateWebhookInput {
  instanceName: string;
  /** Replace the webhook secret with a new one (deliveries in flight during the switch fail verification). */
  rotateSecret?: boolean;
}

export interface WebhookRegistrationReport {
  instanceName: string;
  netboxVersion: string;
  payloadUrl: string;
  webhookId: number;
  eventRuleIds: number[];
  customFieldIds: number[];
  /** What this run made, repaired or cleaned up in NetBox; all empty when everything was already right. */
  created: string[];
  repaired: string[];
  deleted: string[];
}

/**
 * Create NetBox prefix update webhook: makes sure the instance's NetBox has the tracking custom fields, a
 * webhook to our receiver with the secret we hold, and the event rules firing it. Re-running repairs instead
 * of duplicating; a run that failed half-way is completed by the next one.
 * Start it from the Temporal Web UI with `{"instanceName": "Default"}`.
 */
export async function createNetBoxPrefixUpdateWebhook(input: CreateWebhookInput): Promise<WebhookRegistrationReport> {
  const instanceName = instanceNameFrom(input);
  const settings = await acts.getNetBoxPrefixSyncSettings({ instanceName });
  if (!settings.enabled) {
    throw ApplicationFailure.nonRetryable(
      `instance '${instanceName}' has prefix sync disabled; enable it, which registers the webhook (cli: sync enable --instance '${instanceName}')`,
      'PrefixSyncDisabledError',
    );
  }
  const { instanceId } = settings;
  const start = await acts.beginWebhookRegistration({ instanceId });
  // Custom fields first: NetBox refuses custom field values on the webhook and rules before the fields exist.
  const fields = await acts.ensureTrackingCustomFields({ instanceId });
  const webhook = await acts.ensureWebhook({ instanceId, rotateSecret: input.rotateSecret === true });
  const rules = await acts.ensureEventRules({ instanceId, webhookId: webhook.ids[0] });
  await acts.recordWebhookRegistration({
    instanceId,
    webhookId: webhook.ids[0],
    eventRuleIds: rules.ids,
    customFieldIds: fields.ids,
  });
  const steps = [fields, webhook, rules];
  const report: WebhookRegistrationReport = {
    instanceName,
    netboxVersion: start.netboxVersion,
    payloadUrl: start.payloadUrl,
    webhookId: webhook.ids[0],
    eventRuleIds: rules.ids,
    customFieldIds: fields.ids,
    created: steps.flatMap((s) => s.created),
    repaired: steps.flatMap((s) => s.repaired),
    deleted: steps.flatMap((s) => s.deleted),
  };
  log.info('NetBox webhook registered', { instanceName, webhookId: report.webhookId, created: report.created.length, repaired: report.repaired.length });
  return report;
}
