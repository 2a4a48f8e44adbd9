import { ApplicationFailure, proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NetBoxHttpRequestInput, NetBoxHttpResponse } from '../activities/settings-backend';
import { PERMANENT_FAILURES } from './input';

const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: PERMANENT_FAILURES };
// GET, PUT, PATCH, DELETE and OPTIONS can be repeated safely; a POST that timed out may have created something.
const idempotent = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { ...retry, maximumAttempts: 5 } });
const once = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { ...retry, maximumAttempts: 1 } });

/**
 * NetBox HTTP request: one authenticated request to an instance's NetBox API,
 * `{instanceName, method, path, query?, body?}` → `{status, body}`. The token stays inside the activity, the
 * path cannot leave `/api/`, and credentials in the answer are hidden. 4xx answers (other than 401/403,
 * which fail with the missing permission) are returned as they are.
 */
export async function netBoxHttpRequest(input: NetBoxHttpRequestInput): Promise<NetBoxHttpResponse> {
  if (!input || typeof input !== 'object') {
    throw ApplicationFailure.nonRetryable(
      'the workflow input must be {"instanceName": "Default", "method": "GET", "path": "/api/status/"} (query and body optional)',
      'InvalidInputError',
    );
  }
  const acts = String(input.method).toUpperCase() === 'POST' ? once : idempotent;
  return acts.netBoxHttpRequest(input);
}
