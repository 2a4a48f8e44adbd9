import type { NetBoxChange } from '../activities/netbox/webhook-payload';

/** The unprocessed part of the queue, as carried across continue-as-new. Ids and names only: small. */
export interface PendingChangesState {
  prefixIds: number[];
  siteNames: string[];
}

/**
 * The real-time workflow's queue. Events are hints that an object changed, so the queue keeps each prefix id
 * and site name once (in arrival order): a burst of updates to one prefix costs one re-read, and what is carried
 * across continue-as-new is bounded by the number of distinct objects, not by the number of webhooks.
 */
export class PendingChanges {
  private readonly prefixIds: Set<number>;
  private readonly siteNames: Set<string>;

  constructor(state: PendingChangesState = { prefixIds: [], siteNames: [] }) {
    this.prefixIds = new Set(state.prefixIds);
    this.siteNames = new Set(state.siteNames);
  }

  /** Puts back changes taken earlier (a batch to retry later). */
  addState(state: PendingChangesState): void {
    for (const id of state.prefixIds) this.prefixIds.add(id);
    for (const name of state.siteNames) this.siteNames.add(name);
  }

  add(change: NetBoxChange): void {
    if (change.objectType === 'prefix') this.prefixIds.add(change.objectId);
    else for (const name of change.siteNames) this.siteNames.add(name);
  }

  get size(): number {
    return this.prefixIds.size + this.siteNames.size;
  }

  get prefixCount(): number {
    return this.prefixIds.size;
  }

  get siteCount(): number {
    return this.siteNames.size;
  }

  /** Removes and returns up to `maxPrefixes` prefix ids and every pending site name, oldest first. */
  take(maxPrefixes: number): PendingChangesState {
    const prefixIds: number[] = [];
    for (const id of this.prefixIds) {
      if (prefixIds.length >= maxPrefixes) break;
      prefixIds.push(id);
    }
    for (const id of prefixIds) this.prefixIds.delete(id);
    const siteNames = [...this.siteNames];
    this.siteNames.clear();
    return { prefixIds, siteNames };
  }

  /** Everything, emptying the queue. */
  takeAll(): PendingChangesState {
    const all = this.state();
    this.prefixIds.clear();
    this.siteNames.clear();
    return all;
  }

  state(): PendingChangesState {
    return { prefixIds: [...this.prefixIds], siteNames: [...this.siteNames] };
  }
}
