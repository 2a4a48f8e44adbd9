import { ApplicationFailure } from '@temporalio/common';
import { ZodError } from 'zod';
import type { Connections } from './connections';
import { NetBoxUnavailableError, PermanentError } from './errors';
import { createFullSyncActivities } from './full-sync';
import { createRealtimeSyncActivities } from './realtime-sync';
import { describeZodError } from './netbox/schemas';
import { createSettingsActivities } from './settings';
import { createSettingsBackendActivities } from './settings-backend';
import { createWebhookRegistrationActivities } from './webhook-registration';

/**
 * Every activity the worker registers, bound to the process's connections. Workflows import the type only.
 */
export function createActivities(c: Connections) {
  return withFailureTypes({
    ...createSettingsActivities(c),
    ...createFullSyncActivities(c),
    ...createWebhookRegistrationActivities(c),
    ...createSettingsBackendActivities(c),
    ...createRealtimeSyncActivities(c),
  });
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * Turns the project's errors into Temporal failures: permanent ones (bad input, a wrong token, an unknown
 * instance) fail at once whatever the caller's retry policy; the rest are retried.
 */
function withFailureTypes<T extends Record<string, (...args: any[]) => Promise<any>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toFailure(err);
      }
    };
    Object.defineProperty(wrapped[name], 'name', { value: name });
  }
  return wrapped as T;
}

export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof PermanentError) {
    return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true });
  }
  if (err instanceof ZodError) {
    return ApplicationFailure.create({ message: `invalid input: ${describeZodError(err)}`, type: 'InvalidInputError', nonRetryable: true });
  }
  if (err instanceof NetBoxUnavailableError) {
    return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: false });
  }
  // Anything else is unexpected: retried, and reported by type and message only, never with request details.
  const e = err as Error;
  return ApplicationFailure.create({ message: e?.message ?? String(err), type: e?.name ?? 'Error', nonRetryable: false });
}
