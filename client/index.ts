// The client module: what a settings backend imports.
export { PrefixSyncClient, failureMessage } from './prefix-sync-client';
export type { AddInstanceInput, UpdateInstanceInput, InstanceView } from './prefix-sync-client';
export type { FullSyncReport } from '../workflows/importNetworkSitePrefixesFullSync';
export { loadConfig } from '../activities/store/config';
export type { WebhookRegistrationReport } from '../workflows/createNetBoxPrefixUpdateWebhook';
export type { WebhookRemovalReport } from '../workflows/removeNetBoxPrefixUpdateWebhook';
export type { NetBoxConfig, NetBoxInstanceConfig, NetBoxHttpRequestInput, NetBoxHttpResponse } from '../activities/settings-backend';
export type { NetBoxRole } from '../activities/netbox/schemas';
