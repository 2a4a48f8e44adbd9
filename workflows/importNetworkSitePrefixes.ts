import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import type { NetBoxChange } from '../activities/netbox/webhook-payload';
import { addCounts, emptyCounts, type SyncCounts } from '../activities/prefix-sync/counts';
import { PERMANENT_FAILURES } from './input';
import { PendingChanges, type PendingChangesState } from './pending-changes';

// Transient trouble (NetBox down, the database busy) is retried without limit: the events wait in the queue,
// deduplicated, until NetBox answers again. Permanent failures (a revoked token) are reported in the status.
const { applyNetBoxChanges } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: PERMANENT_FAILURES },
});

/**
 * NetBox webhooks' change notices, sent by the receiver with signal-with-start: usually one, several when
 * webhooks arrived while the previous signal was being written (see client/receiver.ts).
 */
export const netboxChangesSignal = defineSignal<[NetBoxChange[]]>('netboxChanges');
/** Queue length and what the workflow has done so far. */
export const realtimeStatusQuery = defineQuery<RealtimeSyncStatus>('status');

/**
 * One workflow per instance: the receiver's signal-with-start finds it by this id. Scoped by task queue,
 * since instance ids are per store: deployments sharing a namespace each have their own task queue.
 */
export function realtimeWorkflowId(instanceId: number, taskQueue: string): string {
  return `netbox-prefix-events-${instanceId}@${taskQueue}`;
}

export interface ImportNetworkSitePrefixesInput {
  instanceId: number;
  /** How long to wait for the next event before finishing (a later event starts a new run). Default 1 hour. */
  idleTimeout?: Duration;
  /** History events per run before continuing as new (default 250; the server may suggest it sooner). */
  historyLimit?: number;
  /** Carried across continue-as-new. */
  pending?: PendingChangesState;
  /** Changes whose batch failed permanently (say, NetBox refused the token), kept to be tried again. */
  parked?: PendingChangesState;
  /** When parked changes are tried again (epoch ms), and the wait after the next failure. */
  parkedRetryAt?: number;
  parkedBackoffMs?: number;
  /** Some parked changes failed for the whole instance (a refused token): retry them as soon as a batch succeeds. */
  parkedUntilNetBoxAnswers?: boolean;
  progress?: RealtimeSyncProgress;
}

export interface RealtimeSyncProgress {
  /** Change notices received (before deduplication). */
  changesReceived: number;
  batches: number;
  prefixesReread: number;
  /** Changes dropped because the instance's prefix sync was off or the instance was removed. */
  dropped: number;
  /**
   * Batches that failed permanently (e.g. NetBox refused the token). Their changes are parked, not lost: tried
   * again after a back-off (1 minute, doubling up to an hour), or, after a refused token, as soon as a batch
   * succeeds again.
   */
  failedBatches: number;
  lastFailure: string | null;
  /** Runs chained by continue-as-new. */
  runs: number;
  counts: SyncCounts;
}

export interface RealtimeSyncStatus extends RealtimeSyncProgress {
  instanceId: number;
  pendingPrefixes: number;
  pendingSites: number;
  /** Changes parked after a permanent failure, waiting to be tried again. */
  parked: number;
  /** Prefix ids plus site names in the batch being applied now (0 when idle). */
  applying: number;
  historyLength: number;
}

/** Prefix ids re-read per activity: a handful of NetBox requests and one transaction. */
const MAX_PREFIXES_PER_BATCH = 500;
/**
 * Short runs keep continue-as-new cheap under load. A continue-as-new that a signal races (one arrives while that
 * workflow task is in flight, near certain at tens of webhooks per second) fails with UnhandledCommand; the worker
 * then evicts the run and replays its whole history, and until that retried task completes the server refuses
 * every signal ("workflow is closing"), so webhooks wait. That replay grows with the run: measured under load on
 * the benchmark machine, ~0.15–0.65 s at 200 events, ~0.2–0.45 s at 300, ~0.6–1.5 s at 1,000, ~2 s at 3,000.
 * A run of 250 events (~60 webhooks at a steady rate) keeps that wait far under the 1 s target; a 10,000-event
 * burst packs hundreds of changes per signal, so it still needs only a few dozen runs.
 */
const MAX_HISTORY_EVENTS = 250;
/** Parked changes are tried again after 1 minute, then 2, 4, … up to an hour. */
const FIRST_PARKED_RETRY_MS = 60_000;
const LAST_PARKED_RETRY_MS = 3_600_000;
/** Halvings per failed batch: enough to isolate a few bad objects in 500, never thousands of activities. */
const MAX_SPLITS_PER_BATCH = 32;
/** Failures that every batch of the instance would meet alike: splitting the batch cannot help. */
const FAILURES_OF_THE_WHOLE_INSTANCE = ['NetBoxAuthError', 'NotANetBoxApiError', 'UnknownInstanceError', 'PrefixSyncDisabledError'];
/** The limit before short runs: replaying histories recorded with it must continue as new where they did. */
const MAX_HISTORY_EVENTS_BEFORE_SHORT_RUNS = 5_000;
const MAX_HISTORY_BYTES = 4 * 1024 * 1024;

/**
 * Import Network Site Prefixes: the real-time sync of one NetBox instance. The receiver signals every verified
 * webhook here; changes are applied in batches, one after another, each re-reading the prefixes from NetBox, so
 * the IP Blocks converge to what NetBox says now whatever order, duplication or delay the webhooks arrive with.
 */
export async function importNetworkSitePrefixes(input: ImportNetworkSitePrefixesInput): Promise<RealtimeSyncStatus> {
  const instanceId = input?.instanceId;
  if (!Number.isInteger(instanceId) || instanceId <= 0) {
    throw ApplicationFailure.nonRetryable(`the workflow input must be {"instanceId": <NetBox instance id>}; got ${JSON.stringify(input)}`, 'InvalidInputError');
  }
  const historyLimit =
    input.historyLimit ?? (patched('short-runs-for-cheap-continue-as-new') ? MAX_HISTORY_EVENTS : MAX_HISTORY_EVENTS_BEFORE_SHORT_RUNS);
  const pending = new PendingChanges(input.pending);
  const parked = new PendingChanges(input.parked);
  let parkedRetryAt = input.parkedRetryAt ?? 0;
  let parkedBackoffMs = input.parkedBackoffMs ?? FIRST_PARKED_RETRY_MS;
  let parkedUntilNetBoxAnswers = input.parkedUntilNetBoxAnswers ?? false;
  const progress: RealtimeSyncProgress = input.progress ?? {
    changesReceived: 0,
    batches: 0,
    prefixesReread: 0,
    dropped: 0,
    failedBatches: 0,
    lastFailure: null,
    runs: 1,
    counts: emptyCounts(),
  };
  let applying = 0;
  const status = (): RealtimeSyncStatus => ({
    instanceId,
    pendingPrefixes: pending.prefixCount,
    pendingSites: pending.siteCount,
    parked: parked.size,
    applying,
    historyLength: workflowInfo().historyLength,
    ...progress,
  });

  setHandler(netboxChangesSignal, (changes) => {
    for (const change of changes) pending.add(change);
    progress.changesReceived += changes.length;
  });
  setHandler(realtimeStatusQuery, status);

  /**
   * Applies a batch. A permanent failure parks its changes to be tried again later (after a back-off; sooner, once
   * a batch succeeds, when NetBox had refused the token or was not a NetBox). Other permanent failures are about
   * the objects read, so the batch is first split in halves, a bounded number of times, so that one unreadable
   * object cannot hold back the rest.
   */
  async function applyOrPark(batch: PendingChangesState, splitsLeft = { n: MAX_SPLITS_PER_BATCH }): Promise<void> {
    applying = batch.prefixIds.length + batch.siteNames.length;
    try {
      const result = await applyNetBoxChanges({ instanceId, ...batch });
      progress.batches++;
      progress.prefixesReread += result.prefixesReread;
      progress.dropped += result.dropped;
      progress.counts = addCounts(progress.counts, result.counts);
      if (result.dropped) log.warn('changes dropped', { instanceId, dropped: result.dropped, reason: result.droppedReason });
      if (parkedUntilNetBoxAnswers && parked.size > 0) {
        // NetBox accepts the token again: what it refused goes back in the queue now.
        pending.addState(parked.takeAll());
        parkedUntilNetBoxAnswers = false;
        parkedBackoffMs = FIRST_PARKED_RETRY_MS;
      }
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // Only permanent failures get here (transient ones retry forever).
      progress.lastFailure = err.cause?.message ?? err.message;
      if (!patched('park-failed-batches')) {
        // Histories recorded before parking dropped the batch here.
        progress.failedBatches++;
        log.error('batch failed', { instanceId, prefixes: batch.prefixIds.length, sites: batch.siteNames.length, error: progress.lastFailure });
        return;
      }
      const type = err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
      const wholeInstance = typeof type === 'string' && FAILURES_OF_THE_WHOLE_INSTANCE.includes(type);
      const halves = wholeInstance || splitsLeft.n <= 0 ? null : splitBatch(batch);
      if (halves) {
        splitsLeft.n--;
        for (const half of halves) await applyOrPark(half, splitsLeft);
        return;
      }
      progress.failedBatches++;
      parked.addState(batch);
      if (wholeInstance) parkedUntilNetBoxAnswers = true;
      const retryInMs = parkedBackoffMs;
      parkedRetryAt = Date.now() + retryInMs;
      parkedBackoffMs = Math.min(retryInMs * 2, LAST_PARKED_RETRY_MS);
      log.error('batch failed; its changes are parked and tried again later', {
        instanceId,
        prefixes: batch.prefixIds.length,
        sites: batch.siteNames.length,
        retryInSeconds: retryInMs / 1000,
        error: progress.lastFailure,
      });
    } finally {
      applying = 0;
    }
  }

  for (;;) {
    const waitMs = parked.size > 0 ? Math.max(1, parkedRetryAt - Date.now()) : undefined;
    if (!(await condition(() => pending.size > 0, waitMs ?? input.idleTimeout ?? '1 hour'))) {
      if (parked.size === 0) {
        // Idle: finish; the next event's signal-with-start begins a fresh run.
        return status();
      }
      pending.addState(parked.takeAll());
    }
    await applyOrPark(pending.take(MAX_PREFIXES_PER_BATCH));

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > historyLimit || info.historySize > MAX_HISTORY_BYTES) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof importNetworkSitePrefixes>({
        instanceId,
        ...(input.idleTimeout !== undefined ? { idleTimeout: input.idleTimeout } : {}),
        ...(input.historyLimit !== undefined ? { historyLimit: input.historyLimit } : {}),
        pending: pending.state(),
        parked: parked.state(),
        parkedRetryAt,
        parkedBackoffMs,
        parkedUntilNetBoxAnswers,
        progress: { ...progress, runs: progress.runs + 1 },
      });
    }
  }
}

/** Two halves of a batch of more than one change, or null for a single change. */
function splitBatch(batch: PendingChangesState): [PendingChangesState, PendingChangesState] | null {
  const items: Array<{ prefixId?: number; siteName?: string }> = [
    ...batch.prefixIds.map((prefixId) => ({ prefixId })),
    ...batch.siteNames.map((siteName) => ({ siteName })),
  ];
  if (items.length < 2) return null;
  const half = (part: typeof items): PendingChangesState => ({
    prefixIds: part.flatMap((i) => (i.prefixId === undefined ? [] : [i.prefixId])),
    siteNames: part.flatMap((i) => (i.siteName === undefined ? [] : [i.siteName])),
  });
  const middle = Math.ceil(items.length / 2);
  return [half(items.slice(0, middle)), half(items.slice(middle))];
}
