import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NetBoxConfig } from '../activities/settings-backend';
import { PERMANENT_FAILURES } from './input';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: PERMANENT_FAILURES },
});

/**
 * Get config for NetBox: every instance's name, base URL, prefix sync setting, role filter, webhook state and
 * the NetBox version last seen. Tokens and secrets show only as "(set, hidden)". Takes no input (`{}` is fine).
 */
export async function getConfigForNetBox(_input?: unknown): Promise<NetBoxConfig> {
  return acts.getConfigForNetBox();
}
