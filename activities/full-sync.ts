import { heartbeat } from '@temporalio/activity';
import type { Connections } from './connections';
import type { PrefixPage } from './netbox/client';
import type { SyncCounts } from './prefix-sync/counts';
import { reconcilePrefixes } from './prefix-sync/reconcile';
import { requireSyncEnabled } from './settings';

export interface FullSyncStart {
  netboxVersion: string;
  /** Prefixes in NetBox regardless of the role filter (null when NetBox does not count). */
  totalPrefixes: number | null;
  /** Prefixes the role filter leaves out (0 without a filter). */
  filteredByRole: number;
}

export interface PrefixPageInput {
  instanceId: number;
  /** The page starts after this prefix id. */
  afterId: number;
  pageSize: number;
}

export interface PrefixPageResult {
  counts: SyncCounts;
  lastId: number;
  done: boolean;
}

/**
 * Read-ahead: while one page is applied, the next one is already being fetched, so a full sync costs
 * about max(fetch, apply) per page instead of their sum. The next activity takes the fetched page when it
 * runs on this worker with the same settings; on any other worker, after a restart, or after a failure,
 * it simply fetches the page itself.
 */
class PrefixReadAhead {
  private readonly pages = new Map<string, { page: Promise<PrefixPage>; startedAt: number }>();

  take(key: string): Promise<PrefixPage> | undefined {
    const entry = this.pages.get(key);
    this.pages.delete(key);
    return entry && Date.now() - entry.startedAt < 60_000 ? entry.page : undefined;
  }

  start(key: string, fetch: () => Promise<PrefixPage>): void {
    for (const [k, e] of this.pages) if (Date.now() - e.startedAt >= 60_000) this.pages.delete(k);
    if (this.pages.size >= 16) return;
    const page = fetch();
    page.catch(() => undefined);
    this.pages.set(key, { page, startedAt: Date.now() });
  }
}

export function createFullSyncActivities(c: Connections) {
  const readAhead = new PrefixReadAhead();
  return {
    /** Checks the instance can sync, and reads NetBox's version and prefix count for the report. */
    async beginFullSync(input: { instanceId: number }): Promise<FullSyncStart> {
      const instance = await c.instances.requireById(input.instanceId);
      requireSyncEnabled(instance, 'a full sync');
      const netbox = await c.netboxFor(instance);
      const status = await netbox.status();
      await c.instances.setNetBoxVersion(instance.id, status.version);
      const totalPrefixes = await netbox.countPrefixes();
      let filteredByRole = 0;
      if (instance.roleFilter.length && totalPrefixes !== null) {
        const matching = await netbox.countPrefixes({ role_id: instance.roleFilter });
        filteredByRole = Math.max(0, totalPrefixes - (matching ?? totalPrefixes));
      }
      return { netboxVersion: status.version, totalPrefixes, filteredByRole };
    },

    /**
     * Fetches one page of prefixes and applies the whole page in one transaction. The role filter goes to
     * NetBox as `role_id` (and is checked again here). Safe to repeat: a retried page finds its blocks present.
     */
    async syncPrefixPage(input: PrefixPageInput): Promise<PrefixPageResult> {
      const instance = await c.instances.requireById(input.instanceId);
      requireSyncEnabled(instance, 'a full sync');
      // The key holds everything that shapes a page, so changed settings never reuse a page fetched before.
      const key = (afterId: number) => [instance.id, instance.updatedAt, afterId, input.pageSize].join(' ');
      const prefetched = readAhead.take(key(input.afterId));
      let page = prefetched && (await prefetched.catch(() => undefined));
      if (!page) {
        // Each attempt stays well inside the workflow's 20 s heartbeat timeout.
        const netbox = await c.netboxFor(instance, { timeoutMs: 15_000, onAttempt: () => heartbeat(input.afterId) });
        page = await netbox.prefixesAfter(input.afterId, input.pageSize, instance.roleFilter);
      }
      heartbeat(page.lastId);
      if (!page.done) {
        const next = await c.netboxFor(instance, { timeoutMs: 15_000 });
        readAhead.start(key(page.lastId), () => next.prefixesAfter(page!.lastId, input.pageSize, instance.roleFilter));
      }
      const counts = await c.inSyncUnit((unit) =>
        reconcilePrefixes(
          unit,
          page!.prefixes.map((p) => ({ prefixId: p.id, prefix: p })),
          { instanceId: instance.id, roleFilter: instance.roleFilter, mode: 'additive', observedAt: page!.fetchedAt },
        ),
      );
      return { counts, lastId: page.lastId, done: page.done };
    },
  };
}
