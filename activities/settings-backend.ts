import { z } from 'zod';
import type { Connections } from './connections';
import { InvalidInputError } from './errors';
import { checkApiPath } from './netbox/client';
import { redactBody } from './netbox/redact';
import type { NetBoxRole } from './netbox/schemas';
import type { NetBoxInstance } from './store/instances';

/** Shown instead of a token or a secret: says whether one is set, never any part of it. */
export const HIDDEN = '(set, hidden)';
export const NOT_SET = '(not set)';

/** One instance as the settings backend shows it. */
export interface NetBoxInstanceConfig {
  id: number;
  name: string;
  baseUrl: string;
  token: typeof HIDDEN;
  prefixSyncEnabled: boolean;
  /** NetBox IPAM role ids; empty = no filter. */
  roleFilter: number[];
  netboxVersion: string | null;
  webhook: {
    registered: boolean;
    webhookId: number | null;
    eventRuleIds: number[];
    customFieldIds: number[];
    payloadUrl: string | null;
    registeredAt: string | null;
    secret: typeof HIDDEN | typeof NOT_SET;
  };
}

export interface NetBoxConfig {
  /** Written into NetBox's `gaiia_tenant_id` on the objects this deployment registers. */
  tenantId: string;
  /** Where NetBox sends events; each instance's payload URL starts with it. */
  receiverPublicUrl: string;
  instances: NetBoxInstanceConfig[];
}

export function instanceConfigOf(instance: NetBoxInstance): NetBoxInstanceConfig {
  const w = instance.webhook;
  return {
    id: instance.id,
    name: instance.name,
    baseUrl: instance.baseUrl,
    token: HIDDEN,
    prefixSyncEnabled: instance.prefixSyncEnabled,
    roleFilter: instance.roleFilter,
    netboxVersion: instance.netboxVersion,
    webhook: {
      registered: Boolean(w?.webhookId && w.registeredAt),
      webhookId: w?.webhookId ?? null,
      eventRuleIds: w?.eventRuleIds ?? [],
      customFieldIds: w?.customFieldIds ?? [],
      payloadUrl: w?.payloadUrl ?? null,
      registeredAt: w?.registeredAt ?? null,
      secret: instance.hasWebhookSecret ? HIDDEN : NOT_SET,
    },
  };
}

const queryValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.union([z.string(), z.number()]))]);

export const netBoxHttpRequestInput = z.strictObject({
  instanceName: z.string().min(1, 'instanceName is required'),
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])),
  path: z.string(),
  query: z.record(z.string(), queryValue).optional(),
  body: z.unknown().optional(),
});
export type NetBoxHttpRequestInput = z.input<typeof netBoxHttpRequestInput>;

export interface NetBoxHttpResponse {
  status: number;
  /** NetBox's JSON body with credential fields (`secret`, `key`, `token`, …) replaced by "[redacted]". */
  body: unknown;
}

/** Temporal refuses payloads over 2 MB; stay well under so the result always fits in history. */
const MAX_RESPONSE_BYTES = 1_000_000;

// Everything but auth failures (permanent) and 429/5xx (retried inside the client) comes back to the caller.
const PASSED_THROUGH_STATUSES = Array.from({ length: 100 }, (_, i) => 400 + i).filter((s) => s !== 401 && s !== 403 && s !== 429);

export function createSettingsBackendActivities(c: Connections) {
  return {
    /** The IPAM roles of an instance's NetBox, for choosing a role filter. */
    async getIpamRolesFromNetBox(input: { instanceName: string }): Promise<NetBoxRole[]> {
      const instance = await c.instances.requireByName(input.instanceName);
      return (await c.netboxFor(instance)).roles();
    },

    /** Every instance's settings and webhook state, with tokens and secrets hidden. */
    async getConfigForNetBox(): Promise<NetBoxConfig> {
      return {
        tenantId: c.config.gaiia.tenantId,
        receiverPublicUrl: c.config.receiver.publicUrl,
        instances: (await c.instances.list()).map(instanceConfigOf),
      };
    },

    /**
     * One authenticated request to an instance's NetBox API. The token is read here and never returned; the
     * path cannot leave `/api/`; credentials in NetBox's answer (a webhook's secret, a token's key) are hidden.
     */
    async netBoxHttpRequest(raw: NetBoxHttpRequestInput): Promise<NetBoxHttpResponse> {
      const input = netBoxHttpRequestInput.parse(raw);
      const path = checkApiPath(input.path);
      const instance = await c.instances.requireByName(input.instanceName);
      const netbox = await c.netboxFor(instance);
      const res = await netbox.request(input.method, path, {
        query: input.query,
        body: input.body,
        allowStatuses: PASSED_THROUGH_STATUSES,
      });
      const body = redactBody(res.data ?? null, [await c.instances.tokenFor(instance.id), await c.instances.webhookSecretFor(instance.id)]);
      const size = Buffer.byteLength(JSON.stringify(body) ?? '');
      if (size > MAX_RESPONSE_BYTES) {
        throw new InvalidInputError(
          `NetBox's answer to ${input.method} ${path} is ${size} bytes, too large for workflow history (limit ${MAX_RESPONSE_BYTES}); ` +
            `ask for less (limit=, fields=, brief=1)`,
        );
      }
      return { status: res.status, body };
    },
  };
}
