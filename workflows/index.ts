// Every workflow type the worker registers. One file per documented workflow.
export { importNetworkSitePrefixesFullSync } from './importNetworkSitePrefixesFullSync';
export { getNetBoxPrefixSyncSettings } from './getNetBoxPrefixSyncSettings';
export { importNetworkSitePrefixes } from './importNetworkSitePrefixes';
