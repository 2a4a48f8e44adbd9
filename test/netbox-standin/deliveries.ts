/**
 * Webhook delivery, standing in for NetBox's RQ worker (netbox/extras/webhooks.py send_webhook).
 *
 * Each matching (event, rule) pair becomes a Delivery. The HTTP request is rendered when it is sent,
 * from the webhook's configuration at that moment (NetBox's worker also reads the webhook then):
 * Content-Type, additional headers, body (default: the JSON-dumped template context), and
 * X-Hook-Signature = hex HMAC-SHA512 of the exact body bytes when the secret is non-empty.
 * Any 2xx is success. Failures are not retried unless `retryMax` > 0 (NetBox's RQ_RETRY_MAX,
 * default 0); a retried event can arrive twice.
 *
 * Modes:
 *  - 'immediate': sent in the background after the mutation commits, by `concurrency` workers
 *    (more than one worker → deliveries can arrive out of order). `flush()` waits for them.
 *  - 'manual': deliveries wait in `pending()` until the test calls `deliver()` / `drop()`.
 */
import { createHmac } from 'node:crypto';
import { seededRandom } from './generate';
import { NetBoxDataset, WebhookRecord } from './model';
import { QueuedEvent } from './events';
import { Json, JsonObject, pythonJsonDumps, webhookContext } from './shapes';
import { NetBoxVersion } from './version';

export type DeliveryMode = 'immediate' | 'manual';

export interface Delivery {
  id: number;
  ruleId: number;
  webhookId: number;
  event: QueuedEvent['event'];
  objectType: string;
  objectId: number;
  /** Attempts made so far (retries re-use the same delivery id). */
  attempts: number;
  queued: QueuedEvent;
}

export interface PendingDelivery {
  id: number;
  event: string;
  objectType: string;
  objectId: number;
  webhookId: number;
  ruleId: number;
}

export interface DeliveryRecord {
  /** Id of this attempt in the log (pass to `redeliver`). */
  recordId: number;
  deliveryId: number;
  kind: 'delivery' | 'retry' | 'duplicate' | 'redelivery' | 'dropped';
  webhookId: number;
  ruleId: number;
  event: string;
  objectType: string;
  objectId: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** HTTP status, when a response came back. */
  status?: number;
  error?: string;
  ok: boolean;
  at: Date;
}

export interface DeliverOptions {
  /** Seed for a deterministic shuffle of the send order. */
  shuffle?: number;
  /** Send every selected delivery twice (as a retrying RQ worker can). */
  duplicate?: boolean;
}

export interface DeliveryQueueOptions {
  version: NetBoxVersion;
  dataset: NetBoxDataset;
  mode: DeliveryMode;
  concurrency: number;
  retryMax: number;
  /** Random per-send delay up to this many ms (immediate mode), to provoke reordering. */
  jitterMs: number;
  jitterSeed: number;
}

/** NetBox's WEBHOOK_DEFAULT_TIMEOUT, applied from 4.7 when the webhook has no own timeout. */
const WEBHOOK_DEFAULT_TIMEOUT_SECONDS = 10;

export class DeliveryQueue {
  readonly log: DeliveryRecord[] = [];
  private waiting: Delivery[] = [];
  private active = 0;
  private nextDeliveryId = 1;
  private nextRecordId = 1;
  private idleWaiters: Array<() => void> = [];
  private inFlight = new Set<AbortController>();
  private closed = false;
  private readonly jitter: () => number;

  constructor(private readonly opts: DeliveryQueueOptions) {
    this.jitter = seededRandom(opts.jitterSeed);
  }

  get mode(): DeliveryMode {
    return this.opts.mode;
  }

  enqueue(ruleId: number, webhookId: number, queued: QueuedEvent): void {
    if (this.closed) return;
    const delivery: Delivery = {
      id: this.nextDeliveryId++,
      ruleId,
      webhookId,
      event: queued.event,
      objectType: queued.objectType,
      objectId: queued.objectId,
      attempts: 0,
      queued,
    };
    this.waiting.push(delivery);
    if (this.opts.mode === 'immediate') setImmediate(() => this.pump());
  }

  pending(): PendingDelivery[] {
    return this.waiting.map((d) => ({
      id: d.id,
      event: d.event,
      objectType: d.objectType,
      objectId: d.objectId,
      webhookId: d.webhookId,
      ruleId: d.ruleId,
    }));
  }

  /** Manual mode: sends the given (default: all) pending deliveries and resolves with their records. */
  async deliver(ids?: number[], options: DeliverOptions = {}): Promise<DeliveryRecord[]> {
    const wanted = ids ? new Set(ids) : null;
    if (ids) {
      const unknown = ids.filter((id) => !this.waiting.some((d) => d.id === id));
      if (unknown.length) throw new Error(`no pending deliveries with ids ${unknown.join(', ')}; see pendingDeliveries()`);
    }
    const selected = this.waiting.filter((d) => !wanted || wanted.has(d.id));
    this.waiting = this.waiting.filter((d) => !selected.includes(d));
    let batch: Array<{ delivery: Delivery; kind: DeliveryRecord['kind'] }> = [];
    for (const d of selected) {
      batch.push({ delivery: d, kind: 'delivery' });
      if (options.duplicate) batch.push({ delivery: d, kind: 'duplicate' });
    }
    if (options.shuffle !== undefined) batch = shuffled(batch, options.shuffle);
    const records: DeliveryRecord[] = [];
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const item = batch[next++];
        records.push(await this.attempt(item.delivery, item.kind));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.opts.concurrency) }, worker));
    return records;
  }

  drop(id: number): void {
    const d = this.waiting.find((x) => x.id === id);
    if (!d) throw new Error(`no pending delivery ${id}; see pendingDeliveries()`);
    this.waiting = this.waiting.filter((x) => x !== d);
    this.log.push({
      ...this.describe(d),
      recordId: this.nextRecordId++,
      kind: 'dropped',
      method: '',
      url: '',
      headers: {},
      body: '',
      ok: false,
      error: 'dropped by test',
      at: new Date(),
    });
  }

  /** Re-sends a logged attempt (like requeueing a job under System > Background Tasks). */
  async redeliver(recordId: number): Promise<DeliveryRecord> {
    const record = this.log.find((r) => r.recordId === recordId);
    if (!record) throw new Error(`no delivery record ${recordId} in deliveryLog`);
    const delivery = this.allDeliveries.get(record.deliveryId);
    if (!delivery) throw new Error(`delivery ${record.deliveryId} is unknown`);
    return this.attempt(delivery, 'redelivery');
  }

  /** Resolves when no delivery is queued (immediate mode) or in flight. */
  flush(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const c of this.inFlight) c.abort();
    if (this.opts.mode === 'immediate') this.waiting = [];
    this.notifyIfIdle();
  }

  // ---- internals -----------------------------------------------------------------------------------

  private allDeliveries = new Map<number, Delivery>();

  private isIdle(): boolean {
    return this.active === 0 && (this.opts.mode === 'manual' || this.waiting.length === 0);
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private pump(): void {
    while (!this.closed && this.active < Math.max(1, this.opts.concurrency) && this.waiting.length) {
      const d = this.waiting.shift()!;
      this.active++;
      void (async () => {
        try {
          if (this.opts.jitterMs > 0) await sleep(Math.floor(this.jitter() * this.opts.jitterMs));
          await this.attempt(d, d.attempts === 0 ? 'delivery' : 'retry');
        } finally {
          this.active--;
          this.pump();
          this.notifyIfIdle();
        }
      })();
    }
    this.notifyIfIdle();
  }

  private describe(d: Delivery) {
    return {
      deliveryId: d.id,
      webhookId: d.webhookId,
      ruleId: d.ruleId,
      event: d.event,
      objectType: d.objectType,
      objectId: d.objectId,
    };
  }

  private async attempt(d: Delivery, kind: DeliveryRecord['kind']): Promise<DeliveryRecord> {
    this.allDeliveries.set(d.id, d);
    d.attempts++;
    const webhook = this.opts.dataset.webhooks.get(d.webhookId);
    const base = { ...this.describe(d), recordId: this.nextRecordId++, kind, at: new Date() };
    if (!webhook) {
      const record: DeliveryRecord = { ...base, method: '', url: '', headers: {}, body: '', ok: false, error: `webhook ${d.webhookId} no longer exists` };
      this.log.push(record);
      return record;
    }
    const request = renderRequest(this.opts.version, webhook, d.queued);
    const record: DeliveryRecord = { ...base, ...request, ok: false };
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeoutSeconds = this.opts.version.webhookSendHasTimeout ? webhook.timeout ?? WEBHOOK_DEFAULT_TIMEOUT_SECONDS : null;
    const timer = timeoutSeconds === null ? null : setTimeout(() => controller.abort(new Error(`timed out after ${timeoutSeconds}s`)), timeoutSeconds * 1000);
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.method === 'GET' || request.method === 'HEAD' ? undefined : Buffer.from(request.body, 'utf8'),
        signal: controller.signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      record.status = response.status;
      record.ok = response.status >= 200 && response.status <= 299;
      if (!record.ok) record.error = `Status ${response.status} returned, webhook FAILED to process.`;
    } catch (e) {
      const err = e as Error & { cause?: Error };
      record.error = err.cause?.message ?? err.message;
    } finally {
      if (timer) clearTimeout(timer);
      this.inFlight.delete(controller);
    }
    record.at = new Date();
    this.log.push(record);
    if (!record.ok && (kind === 'delivery' || kind === 'retry') && d.attempts <= this.opts.retryMax && !this.closed) {
      this.waiting.push(d);
      if (this.opts.mode === 'immediate') setImmediate(() => this.pump());
    }
    return record;
  }
}

interface RenderedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Builds the HTTP request exactly as NetBox's send_webhook would for this webhook and event. */
export function renderRequest(version: NetBoxVersion, webhook: WebhookRecord, queued: QueuedEvent): RenderedRequest {
  const context = webhookContext(version, {
    event: queued.event,
    timestamp: queued.timestamp,
    objectType: queued.objectType,
    data: queued.data,
    snapshots: { prechange: queued.prechange, postchange: queued.postchange },
    username: queued.request.username,
    requestId: queued.request.id,
    request: { method: queued.request.method, path: queued.request.path },
  });
  const headers: Record<string, string> = {
    'User-Agent': 'python-requests/2.32.3',
    'Content-Type': webhook.httpContentType,
  };
  for (const line of renderTemplate(webhook.additionalHeaders, context).split('\n')) {
    const idx = line.indexOf(':');
    if (line.trim() && idx > 0) headers[line.slice(0, idx).trim()] = line.slice(idx + 1).trim();
  }
  const body = webhook.bodyTemplate ? renderTemplate(webhook.bodyTemplate, context) : pythonJsonDumps(context);
  if (webhook.secret !== '') headers['X-Hook-Signature'] = signBody(body, webhook.secret);
  return { method: webhook.httpMethod, url: renderTemplate(webhook.payloadUrl, context), headers, body };
}

/** NetBox's generate_signature: hex HMAC-SHA512 of the body bytes, keyed with the UTF-8 secret. */
export function signBody(body: string | Buffer, secret: string): string {
  return createHmac('sha512', Buffer.from(secret, 'utf8')).update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body).digest('hex');
}

/**
 * A small subset of Jinja2, enough for typical webhook templates: `{{ path }}` and
 * `{{ path | tojson }}` where path is dotted or `data['key']`. Objects print as JSON.
 */
export function renderTemplate(template: string, context: JsonObject): string {
  if (!template.includes('{{')) return template;
  return template.replace(/\{\{\s*(.+?)\s*\}\}/g, (_, expr: string) => {
    const [pathExpr, filter] = expr.split('|').map((s) => s.trim());
    let value: Json | undefined = context;
    for (const part of pathExpr.replace(/\[['"]?([^'"\]]+)['"]?\]/g, '.$1').split('.')) {
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[part] : undefined;
    }
    if (value === undefined) return '';
    if (filter === 'tojson' || (value !== null && typeof value === 'object')) return JSON.stringify(value);
    return value === null ? 'None' : String(value);
  });
}

function shuffled<T>(items: T[], seed: number): T[] {
  const rand = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
