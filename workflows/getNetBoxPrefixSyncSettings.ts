import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PrefixSyncSettings } from '../activities/settings';
import { instanceNameFrom, PERMANENT_FAILURES } from './input';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: PERMANENT_FAILURES },
});

/** Get NetBox prefix synchronization settings: whether sync is enabled for the instance, and its role filter. */
export async function getNetBoxPrefixSyncSettings(input: { instanceName: string }): Promise<PrefixSyncSettings> {
  return acts.getNetBoxPrefixSyncSettings({ instanceName: instanceNameFrom(input) });
}
