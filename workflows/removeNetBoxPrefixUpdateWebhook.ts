import { ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { instanceNameFrom, PERMANENT_FAILURES } from './input';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT_FAILURES },
});

export interface WebhookRemovalReport {
  instanceName: string;
  /** What this run deleted; empty when it was already gone. */
  deleted: string[];
  /** Tracking custom fields left in place, and why (another instance still uses them). */
  kept: string[];
}

/**
 * Remove NetBox prefix update webhook: deletes the instance's event rules and webhook, then the tracking
 * custom fields unless another instance's objects still use them, and forgets the webhook secret.
 * Already gone counts as done. Refused while prefix sync is enabled (disabling runs this).
 */
export async function removeNetBoxPrefixUpdateWebhook(input: { instanceName: string }): Promise<WebhookRemovalReport> {
  const instanceName = instanceNameFrom(input);
  const settings = await acts.getNetBoxPrefixSyncSettings({ instanceName });
  if (settings.enabled) {
    throw ApplicationFailure.nonRetryable(
      `instance '${instanceName}' has prefix sync enabled, so its NetBox webhook stays; disable prefix sync instead ` +
        `(cli: sync disable --instance '${instanceName}'), which removes the webhook`,
      'PrefixSyncDisabledError',
    );
  }
  const { instanceId } = settings;
  // Rules before the webhook they fire, so NetBox never holds a rule pointing at nothing.
  const rules = await acts.deleteOurEventRules({ instanceId });
  const webhook = await acts.deleteOurWebhook({ instanceId });
  const fields = await acts.removeUnusedTrackingCustomFields({ instanceId });
  await acts.forgetWebhookRegistration({ instanceId });
  const report = { instanceName, deleted: [rules, webhook, fields].flatMap((s) => s.deleted), kept: fields.kept };
  log.info('NetBox webhook removed', { instanceName, deleted: report.deleted.length, kept: report.kept.length });
  return report;
}
