/** Public surface of the NetBox stand-in test fixture. */
export { loadDemoDataset, parseCopyBlocks, demoDataDir, type DemoDumpVersion } from './demo-dump';
export { generateDataset, type GenerateOptions } from './generate';
export { NetBoxDataset, type PrefixRecord, type SiteRecord, type RoleRecord, type ScopeType, type WebhookRecord, type EventRuleRecord, type CustomFieldRecord } from './model';
export { startNetBoxStandIn, type NetBoxStandIn, type StandInOptions, type RequestLogEntry, type FaultControls } from './server';
export { type TokenSpec, newV1Token, newV2Token } from './auth';
export { type DeliveryRecord, type PendingDelivery, type DeliverOptions, type DeliveryMode, signBody } from './deliveries';
export { type PrefixInput, type SiteInput, type RoleInput } from './operations';
export { NetBoxVersion } from './version';
