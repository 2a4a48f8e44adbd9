// Every workflow type the worker registers. One file per documented workflow.
export { importNetworkSitePrefixesFullSync } from './importNetworkSitePrefixesFullSync';
export { getNetBoxPrefixSyncSettings } from './getNetBoxPrefixSyncSettings';
export { createNetBoxPrefixUpdateWebhook } from './createNetBoxPrefixUpdateWebhook';
export { removeNetBoxPrefixUpdateWebhook } from './removeNetBoxPrefixUpdateWebhook';
export { getIpamRolesFromNetBox } from './getIpamRolesFromNetBox';
export { getConfigForNetBox } from './getConfigForNetBox';
export { netBoxHttpRequest } from './netBoxHttpRequest';
export { importNetworkSitePrefixes } from './importNetworkSitePrefixes';
