import crypto from 'node:crypto';
import { Client, Connection, isGrpcServiceError, isRetryableError } from '@temporalio/client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';
import { parseWebhookPayload, WebhookPayloadError, type NetBoxChange } from '../activities/netbox/webhook-payload';
import type { AppConfig } from '../activities/store/config';
import type { InstanceStore } from '../activities/store/instances';
import { importNetworkSitePrefixes, netboxChangesSignal, realtimeWorkflowId } from '../workflows/importNetworkSitePrefixes';

/**
 * The webhook receiver: NetBox's signed webhooks in, one signal-with-start to the instance's
 * `importNetworkSitePrefixes` workflow out. It answers 2xx only once Temporal has durably accepted the signal,
 * so a NetBox delivery that failed here is recorded as failed in NetBox; every rejection signals nothing.
 */

export const WEBHOOK_PATH = '/webhooks/netbox';
/** NetBox's prefix and site events are a few KiB; anything near this is not one of them. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/** Hands a verified change to Temporal; resolves only after Temporal accepted it. */
export interface ChangeSignaller {
  signal(instanceId: number, change: NetBoxChange): Promise<{ workflowId: string }>;
  close(): Promise<void>;
}

/** Temporal could not be reached or did not accept the signal in time. */
export class TemporalUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalUnavailableError';
  }
}

/** Changes per signal at most: keeps one signal's payload in the tens of KiB. */
const MAX_CHANGES_PER_SIGNAL = 500;
/**
 * How long a webhook may wait, from its arrival, for Temporal to accept its change before it is answered 503:
 * transient trouble within it is retried here. Under NetBox 4.7's default 10 s send timeout, so NetBox always
 * gets our answer rather than timing out itself.
 */
const SIGNAL_BUDGET_MS = 8_000;

interface WaitingChange {
  change: NetBoxChange;
  arrivedAt: number;
  resolve: (result: { workflowId: string }) => void;
  reject: (err: Error) => void;
}

/**
 * Signal-with-start through a Temporal client connected on first use, so the receiver can start (and answer 503)
 * while Temporal is down.
 *
 * Group commit: Temporal writes the signals of one workflow one after another, so while a signal for an instance
 * is in flight, the changes arriving meanwhile wait and then go together in the next signal. A lone webhook is
 * sent at once; under a burst each signal carries many. Every caller still resolves only once the signal holding
 * its change was accepted, and a signal that could not be delivered within the budget of its oldest change fails
 * every change in it (each answered 503).
 *
 * Retries are ours, not the SDK's: its default gRPC retry backs off RESOURCE_EXHAUSTED from 1 s (1.7 s, 2.9 s,
 * 4.9 s…), and that is exactly what the server answers while the workflow continues as new with a signal racing it
 * (see `retryDelayMs`). A retried signal-with-start may reach Temporal twice; the workflow treats changes as hints
 * and deduplicates them, so that is harmless.
 */
export class TemporalChangeSignaller implements ChangeSignaller {
  private client?: Promise<Client>;
  private readonly lanes = new Map<number, { waiting: WaitingChange[]; sending: boolean }>();

  constructor(
    private readonly options: {
      address: string;
      namespace: string;
      taskQueue: string;
      /** The budget per webhook (default 8 s); keep it below the NetBox webhook's timeout. */
      timeoutMs?: number;
    },
  ) {}

  signal(instanceId: number, change: NetBoxChange): Promise<{ workflowId: string }> {
    let lane = this.lanes.get(instanceId);
    if (!lane) this.lanes.set(instanceId, (lane = { waiting: [], sending: false }));
    const queued = new Promise<{ workflowId: string }>((resolve, reject) =>
      lane.waiting.push({ change, arrivedAt: Date.now(), resolve, reject }),
    );
    if (!lane.sending) void this.send(instanceId, lane);
    return queued;
  }

  private async send(instanceId: number, lane: { waiting: WaitingChange[]; sending: boolean }): Promise<void> {
    lane.sending = true;
    const workflowId = realtimeWorkflowId(instanceId, this.options.taskQueue);
    while (lane.waiting.length) {
      const group = lane.waiting.splice(0, MAX_CHANGES_PER_SIGNAL);
      // The oldest change sets the deadline, so no webhook waits longer than the budget, queueing included.
      const deadline = group[0].arrivedAt + (this.options.timeoutMs ?? SIGNAL_BUDGET_MS);
      try {
        await this.signalUntil(deadline, instanceId, group.map((w) => w.change));
        for (const w of group) w.resolve({ workflowId });
      } catch (err) {
        for (const w of group) w.reject(err as Error);
      }
    }
    lane.sending = false;
    this.lanes.delete(instanceId);
  }

  /** One signal-with-start, retried on transient trouble until `deadline`. */
  private async signalUntil(deadline: number, instanceId: number, changes: NetBoxChange[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let failure: unknown;
      try {
        const client = await this.connect(deadline);
        await client.connection.withDeadline(deadline, () =>
          client.workflow.signalWithStart(importNetworkSitePrefixes, {
            workflowId: realtimeWorkflowId(instanceId, this.options.taskQueue),
            taskQueue: this.options.taskQueue,
            args: [{ instanceId }],
            signal: netboxChangesSignal,
            signalArgs: [changes],
          }),
        );
        return;
      } catch (err) {
        failure = err;
      }
      const delay = retryDelayMs(failure, attempt);
      const reason = describeFailure(failure);
      if (delay === null) throw new TemporalUnavailableError(`Temporal at ${this.options.address} did not accept the signal: ${reason}`);
      if (Date.now() + delay >= deadline) {
        throw new TemporalUnavailableError(
          `Temporal at ${this.options.address} did not accept the signal within ${this.options.timeoutMs ?? SIGNAL_BUDGET_MS} ms (${attempt} attempts): ${reason}`,
        );
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private connect(deadline: number): Promise<Client> {
    this.client ??= Connection.connect({
      address: this.options.address,
      connectTimeout: Math.max(1, deadline - Date.now()),
      // No SDK retry interceptor: signalUntil retries, with delays that suit a webhook waiting for its answer.
      interceptors: [],
      // A Temporal that went away and came back is reconnected within a second, not grpc's default minutes.
      channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1_000 },
    }).then(
      (connection) => new Client({ connection, namespace: this.options.namespace }),
      (err) => {
        this.client = undefined;
        throw new TemporalUnreachableError(`cannot reach Temporal at ${this.options.address}: ${(err as Error).message}`);
      },
    );
    return this.client;
  }

  async close(): Promise<void> {
    const client = await this.client?.catch(() => undefined);
    this.client = undefined;
    await client?.connection.close();
  }
}

/** The first connection could not be made (Temporal down or starting): worth another try within the budget. */
class TemporalUnreachableError extends Error {}

/**
 * How long to wait before trying a failed signal-with-start again, or null when another try cannot help.
 *
 * - RESOURCE_EXHAUSTED "workflow is closing" (cause BUSY_WORKFLOW): the workflow's continue-as-new was bounced
 *   back by a signal that arrived during that workflow task (UnhandledCommand); while the retried task runs (a full
 *   replay of the run, since the worker evicts it) the server refuses new signals so the close cannot be starved.
 *   That lasts a fraction of a second: retry soon and often.
 * - UNAVAILABLE, ABORTED, UNKNOWN, a broken HTTP/2 stream (the SDK's own list), other RESOURCE_EXHAUSTED (rate
 *   limits), a first connection that failed: Temporal restarting or unreachable for a moment, back off to 1 s.
 * - Anything else (DEADLINE_EXCEEDED: the budget is spent; INVALID_ARGUMENT, NOT_FOUND namespace, PERMISSION_DENIED)
 *   will not get better by waiting.
 */
export function retryDelayMs(err: unknown, attempt: number): number | null {
  if (err instanceof TemporalUnreachableError) return Math.min(100 * 2 ** (attempt - 1), 1_000);
  const status = grpcStatus(err);
  if (!status) return null;
  if (status.code === GRPC_RESOURCE_EXHAUSTED && /workflow is closing/i.test(status.details ?? '')) {
    return Math.min(25 * 1.25 ** (attempt - 1), 100);
  }
  if (isRetryableError(status)) return Math.min(100 * 2 ** (attempt - 1), 1_000);
  return null;
}

const GRPC_RESOURCE_EXHAUSTED = 8;

/** The gRPC status behind a client error (the SDK wraps it in a ServiceError's cause). */
function grpcStatus(err: unknown): (Error & Parameters<typeof isRetryableError>[0]) | null {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e)) return e;
  }
  return null;
}

function describeFailure(err: unknown): string {
  const status = grpcStatus(err);
  return (status ?? (err as Error))?.message ?? String(err);
}

/** The receiver's logger: headers that authenticate are redacted wherever they appear; bodies are never logged. */
export function receiverLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      name: 'netbox-webhook-receiver',
      level,
      redact: {
        paths: [
          'req.headers["x-hook-signature"]',
          'req.headers.authorization',
          'headers["x-hook-signature"]',
          'headers.authorization',
          '*.secret',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export interface ReceiverOptions {
  instances: InstanceStore;
  signaller: ChangeSignaller;
  logger?: Logger;
  bodyLimit?: number;
}

/** An answer that is not a 2xx, with the reason NetBox will show in its delivery log. */
class Rejection extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function buildReceiver(options: ReceiverOptions): FastifyInstance {
  const logger = options.logger ?? receiverLogger();
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per webhook is logged below, without headers; Fastify's own request lines would add nothing.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? WEBHOOK_BODY_LIMIT,
  });

  // The signature covers the exact bytes NetBox sent, so the body stays raw until it has been verified.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
      req.log.warn({ instanceId: (req.query as Record<string, unknown>)?.instanceId }, 'webhook rejected: body too large');
      return reply.code(413).send({ error: `the body is over ${options.bodyLimit ?? WEBHOOK_BODY_LIMIT} bytes; NetBox prefix and site events are far smaller` });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err: { type: err.name, message: err.message } }, 'webhook handling failed');
    return reply.code(status).send({ error: status === 500 ? 'internal error; see the receiver log' : err.message });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.post(WEBHOOK_PATH, async (req, reply) => {
    const started = process.hrtime.bigint();
    const query = req.query as Record<string, unknown>;
    const rawInstanceId = query.instanceId;
    try {
      const instanceId = typeof rawInstanceId === 'string' && /^[1-9]\d{0,9}$/.test(rawInstanceId) ? Number(rawInstanceId) : null;
      if (instanceId === null) {
        throw new Rejection(400, 'instanceId: the query must carry the instance id, as registered in NetBox (…/webhooks/netbox?instanceId=<id>)');
      }
      const signature = req.headers['x-hook-signature'];
      if (typeof signature !== 'string' || signature === '') {
        throw new Rejection(401, 'X-Hook-Signature: missing; the NetBox webhook must have the secret this integration registered');
      }
      const instance = await options.instances.findById(instanceId);
      if (!instance) throw new Rejection(404, `no NetBox instance with id ${instanceId} is configured here`);
      const secret = await options.instances.webhookSecretFor(instanceId);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!secret || !signatureMatches(body, secret, signature)) {
        throw new Rejection(401, 'X-Hook-Signature: does not match the body signed with this instance\'s webhook secret');
      }
      if (!instance.prefixSyncEnabled) {
        throw new Rejection(409, `instance '${instance.name}' has prefix sync disabled; its events are rejected until it is enabled again`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new Rejection(400, `body: not JSON (${(err as Error).message})`);
      }
      let change: NetBoxChange;
      try {
        change = parseWebhookPayload(parsed);
      } catch (err) {
        if (err instanceof WebhookPayloadError) throw new Rejection(400, err.message);
        throw err;
      }
      const { workflowId } = await options.signaller.signal(instanceId, change);
      req.log.info(
        { instanceId, objectType: change.objectType, objectId: change.objectId, event: change.event, ms: elapsedMs(started) },
        'webhook accepted',
      );
      return reply.code(202).send({ status: 'accepted', workflowId });
    } catch (err) {
      const { statusCode, message } =
        err instanceof Rejection
          ? err
          : err instanceof TemporalUnavailableError
            ? { statusCode: 503, message: 'Temporal is unavailable; the event was not accepted (NetBox records this delivery as failed)' }
            : { statusCode: 500, message: 'internal error; see the receiver log' };
      const level = statusCode >= 500 ? 'error' : 'warn';
      req.log[level](
        { instanceId: rawInstanceId, status: statusCode, reason: statusCode === 500 || statusCode === 503 ? (err as Error).message : message, ms: elapsedMs(started) },
        'webhook rejected',
      );
      return reply.code(statusCode).send({ error: message });
    }
  });

  return app;
}

/** Hex HMAC-SHA512 of the raw body, compared in constant time (NetBox's X-Hook-Signature). */
export function signatureMatches(body: Buffer, secret: string, signature: string): boolean {
  if (!/^[0-9a-fA-F]{128}$/.test(signature)) return false;
  const expected = crypto.createHmac('sha512', secret).update(body).digest();
  return crypto.timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

/** What NetBox puts in X-Hook-Signature for this body and secret (tests and the benchmark sign with it). */
export function signBody(body: string | Buffer, secret: string): string {
  return crypto.createHmac('sha512', secret).update(body).digest('hex');
}

export interface RunningReceiver {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8280 */
  url: string;
  close(): Promise<void>;
}

/** Starts the receiver on host:port (port 0 picks a free one). Closing it also closes the signaller. */
export async function startReceiver(options: ReceiverOptions & { host: string; port: number }): Promise<RunningReceiver> {
  const app = buildReceiver(options);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = address && typeof address === 'object' ? address.port : options.port;
  return {
    app,
    url: `http://${options.host}:${port}`,
    async close() {
      await app.close();
      await options.signaller.close();
    },
  };
}

/** The receiver as configured (RECEIVER_HOST/RECEIVER_PORT), signalling the Temporal at `temporalAddress`. */
export function startConfiguredReceiver(config: AppConfig, instances: InstanceStore, temporalAddress: string): Promise<RunningReceiver> {
  return startReceiver({
    host: config.receiver.host,
    port: config.receiver.port,
    instances,
    signaller: new TemporalChangeSignaller({ address: temporalAddress, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue }),
  });
}

function elapsedMs(started: bigint): number {
  return Number((process.hrtime.bigint() - started) / 1000n) / 1000;
}
