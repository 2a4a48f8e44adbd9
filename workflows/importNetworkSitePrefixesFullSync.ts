import { ActivityFailure, ApplicationFailure, continueAsNew, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { addCounts, emptyCounts, type SyncCounts } from '../activities/prefix-sync/counts';
import { instanceNameFrom, PERMANENT_FAILURES } from './input';

const { getNetBoxPrefixSyncSettings, beginFullSync } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT_FAILURES },
});

// One page is one NetBox request plus one transaction; the heartbeat lets a lost worker be noticed quickly.
const { syncPrefixPage } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20, nonRetryableErrorTypes: PERMANENT_FAILURES },
});

export interface FullSyncInput {
  instanceName: string;
  /** Prefixes per NetBox request (NetBox may cap it lower; nothing is lost either way). */
  pageSize?: number;
  /** Pages per workflow run before continue-as-new (default 300). */
  pagesPerRun?: number;
}

export interface FullSyncReport extends SyncCounts {
  instanceName: string;
  netboxVersion: string;
  /** Prefixes NetBox holds (before the role filter), when NetBox counts them. */
  netboxPrefixCount: number | null;
  pages: number;
  /** Runs of this workflow chained by continue-as-new. */
  runs: number;
}

/** Carried across continue-as-new: where the walk is and what it has done so far. */
export interface FullSyncProgress {
  instanceId: number;
  afterId: number;
  report: FullSyncReport;
}


/**
 * Full Sync: pages through every prefix of a NetBox instance and creates the IP Blocks that are missing.
 * Additive (removes nothing) and idempotent; refused while the instance's prefix sync is disabled.
 * Start it from the Temporal Web UI with `{"instanceName": "Default"}`.
 */
export async function importNetworkSitePrefixesFullSync(input: FullSyncInput, progress?: FullSyncProgress): Promise<FullSyncReport> {
  const instanceName = instanceNameFrom(input);
  const pageSize = wholeNumber(input.pageSize, 1000, 1, 1000, 'pageSize');
  const pagesPerRun = wholeNumber(input.pagesPerRun, 300, 1, 1000, 'pagesPerRun');

  if (!progress) {
    const settings = await getNetBoxPrefixSyncSettings({ instanceName });
    if (!settings.enabled) {
      throw ApplicationFailure.nonRetryable(
        `instance '${instanceName}' has prefix sync disabled; enable it before a full sync (cli: sync enable --instance '${instanceName}')`,
        'PrefixSyncDisabledError',
      );
    }
    const start = await beginFullSync({ instanceId: settings.instanceId });
    progress = {
      instanceId: settings.instanceId,
      afterId: 0,
      report: { instanceName, netboxVersion: start.netboxVersion, netboxPrefixCount: start.totalPrefixes, pages: 0, runs: 1, ...emptyCounts() },
    };
    // With a role filter NetBox returns only matching prefixes; the others are counted from NetBox's totals.
    progress.report.skipped.filteredByRole = start.filteredByRole;
    log.info('full sync started', { instanceName, netboxVersion: start.netboxVersion, prefixes: start.totalPrefixes });
  }

  let { afterId, report } = progress;
  for (let pagesThisRun = 0; ; pagesThisRun++) {
    if (pagesThisRun >= pagesPerRun || workflowInfo().continueAsNewSuggested) {
      // Keeps each run's history small, so a NetBox of any size stays far from Temporal's limits.
      await continueAsNew<typeof importNetworkSitePrefixesFullSync>(input, {
        instanceId: progress.instanceId,
        afterId,
        report: { ...report, runs: report.runs + 1 },
      });
    }
    let page: Awaited<ReturnType<typeof syncPrefixPage>>;
    try {
      page = await syncPrefixPage({ instanceId: progress.instanceId, afterId, pageSize });
    } catch (err) {
      throw stoppedPartWay(err, report);
    }
    const { instanceName: name, netboxVersion, netboxPrefixCount, pages, runs } = report;
    report = { instanceName: name, netboxVersion, netboxPrefixCount, pages: pages + 1, runs, ...addCounts(report, page.counts) };
    afterId = page.lastId;
    if (page.done) break;
  }
  log.info('full sync finished', { instanceName, created: report.created, prefixes: report.prefixes });
  return report;
}

/**
 * A page that failed for good after others were applied: the blocks made so far stay (the sync is additive), so
 * the failure says how far it got, and a sync stopped by disabling says that rather than "enable it before".
 * The partial report goes along as the failure's details.
 */
function stoppedPartWay(err: unknown, report: FullSyncReport): unknown {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure) || report.pages === 0) return err;
  const cause = err.cause;
  const done =
    `${report.pages} page${report.pages === 1 ? '' : 's'} (${report.prefixes} prefixes looked at, ` +
    `${report.created} IP Blocks created, which are kept)`;
  const message =
    cause.type === 'PrefixSyncDisabledError'
      ? `prefix sync of '${report.instanceName}' was disabled during the full sync; it stopped after ${done}; ` +
        `unless the instance was removed, enable it again (cli: sync enable --instance '${report.instanceName}') and re-run the full sync to finish`
      : `${cause.message}; the full sync stopped after ${done}; re-run it once that is fixed (it creates only what is missing)`;
  return ApplicationFailure.create({ message, type: cause.type ?? 'Error', nonRetryable: true, details: [report] });
}

function wholeNumber(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw ApplicationFailure.nonRetryable(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`, 'InvalidInputError');
  }
  return value;
}
