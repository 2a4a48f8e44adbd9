import { ApplicationFailure } from '@temporalio/workflow';

/** Error types no retry can fix: every PermanentError subclass of activities/errors.ts (test/errors.test.ts checks). */
export const PERMANENT_FAILURES = [
  'UnknownInstanceError',
  'PrefixSyncDisabledError',
  'InvalidInputError',
  'DuplicateInstanceError',
  'NetBoxAuthError',
  'NotANetBoxApiError',
  'NetBoxRequestRejectedError',
  'UnexpectedNetBoxResponseError',
  'NetBoxObjectConflictError',
];

/** Reads `{"instanceName": "..."}` as typed into the Temporal Web UI, failing clearly on anything else. */
export function instanceNameFrom(input: unknown): string {
  const name = input && typeof input === 'object' ? (input as { instanceName?: unknown }).instanceName : undefined;
  if (typeof name !== 'string' || name.trim() === '') {
    throw ApplicationFailure.nonRetryable(
      `the workflow input must be {"instanceName": "<NetBox instance name>"}, for example {"instanceName": "Default"}; got ${JSON.stringify(input)}`,
      'InvalidInputError',
    );
  }
  return name;
}
