import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NetBoxRole } from '../activities/netbox/schemas';
import { instanceNameFrom, PERMANENT_FAILURES } from './input';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: PERMANENT_FAILURES },
});

/** Get IPAM roles from NetBox: `{id, name, slug}` of every role, to choose the prefix sync role filter from. */
export async function getIpamRolesFromNetBox(input: { instanceName: string }): Promise<NetBoxRole[]> {
  return acts.getIpamRolesFromNetBox({ instanceName: instanceNameFrom(input) });
}
