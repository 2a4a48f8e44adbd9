import type { Connections } from './connections';
import { PrefixSyncDisabledError } from './errors';
import type { NetBoxInstance } from './store/instances';

/** An instance's prefix sync settings, safe for workflow history (no token, no secret). */
export interface PrefixSyncSettings {
  instanceId: number;
  instanceName: string;
  enabled: boolean;
  roleFilter: number[];
}

export function settingsOf(instance: NetBoxInstance): PrefixSyncSettings {
  return {
    instanceId: instance.id,
    instanceName: instance.name,
    enabled: instance.prefixSyncEnabled,
    roleFilter: instance.roleFilter,
  };
}

export function requireSyncEnabled(instance: NetBoxInstance, action: string): void {
  if (!instance.prefixSyncEnabled) {
    throw new PrefixSyncDisabledError(
      `instance '${instance.name}' has prefix sync disabled; enable it before ${action} (cli: sync enable --instance '${instance.name}')`,
    );
  }
}

export function createSettingsActivities(c: Connections) {
  return {
    /** Get NetBox prefix synchronization settings: the instance's id, whether sync is on, and its role filter. */
    async getNetBoxPrefixSyncSettings(input: { instanceName: string }): Promise<PrefixSyncSettings> {
      return settingsOf(await c.instances.requireByName(input.instanceName));
    },
  };
}
