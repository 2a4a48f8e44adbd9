/**
 * The webhook receiver against a real Temporal dev server (no worker: nothing here needs a workflow to run).
 * Each rejection also proves that nothing was signalled (no workflow exists for the instance) and nothing changed
 * (IP Blocks and ledger as before); an accepted webhook is in the workflow's history as a small, secret-free signal.
 */
import { ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import net from 'node:net';
import { Writable } from 'node:stream';
import { openConnections, type Connections } from '../activities/connections';
import { closeDatabase } from '../activities/store/db';
import { Ledger } from '../activities/store/ledger';
import {
  receiverLogger,
  retryDelayMs,
  signBody,
  startReceiver,
  TemporalChangeSignaller,
  WEBHOOK_BODY_LIMIT,
  type RunningReceiver,
} from '../client/receiver';
import { realtimeWorkflowId } from '../workflows/importNetworkSitePrefixes';
import { testConfig } from './support/config';
import { startTemporal } from './support/temporal';
import { freePort } from './support/waiting';

const SECRET = 'receiver-test-secret-5b1e0c';
const TOKEN = '0123456789abcdef0123456789abcdef01234567';
const config = testConfig();
let env: TestWorkflowEnvironment;
let connections: Connections;
let receiver: RunningReceiver;
let enabledId: number;
let disabledId: number;
const logLines: string[] = [];
const logSink = new Writable({
  write(chunk, _enc, done) {
    logLines.push(chunk.toString());
    done();
  },
});

beforeAll(async () => {
  env = await startTemporal();
  connections = await openConnections(config);
  const enabled = await connections.instances.create({ name: 'Default', baseUrl: 'http://127.0.0.1:9', token: TOKEN });
  await connections.instances.setPrefixSync(enabled.id, true);
  await connections.instances.setWebhookSecret(enabled.id, SECRET);
  enabledId = enabled.id;
  const disabled = await connections.instances.create({ name: 'Off', baseUrl: 'http://127.0.0.1:9', token: TOKEN });
  await connections.instances.setWebhookSecret(disabled.id, SECRET);
  disabledId = disabled.id;
  await connections.gaiia.createNetworkSite('DM-NYC');
  await connections.gaiia.addManualIpBlock('DM-NYC', { block: '10.0.0.0/24', description: 'by hand' });
  receiver = await startReceiver({
    host: '127.0.0.1',
    port: 0,
    instances: connections.instances,
    signaller: new TemporalChangeSignaller({ address: env.address, namespace: 'default', taskQueue: config.temporal.taskQueue }),
    logger: receiverLogger('info', logSink),
  });
});

afterAll(async () => {
  await receiver?.close();
  await closeDatabase(config.databaseUrl);
  await env?.teardown();
});

const prefixEvent = (id = 7) =>
  JSON.stringify({
    event: 'updated',
    timestamp: '2025-01-01T10:00:00.000000+00:00',
    object_type: 'ipam.prefix',
    username: 'admin',
    request_id: 'abc',
    data: { id, url: `/api/ipam/prefixes/${id}/`, prefix: '10.1.0.0/24', scope_type: 'dcim.site', scope_id: 1, scope: { id: 1, name: 'DM-NYC' } },
    snapshots: { prechange: null, postchange: null },
  });

async function post(
  body: string | Buffer,
  options: { instanceId?: string | number | null; signature?: string | null; secret?: string; contentType?: string; url?: string } = {},
) {
  const query = options.instanceId === null ? '' : `?instanceId=${options.instanceId ?? enabledId}`;
  const headers: Record<string, string> = { 'Content-Type': options.contentType ?? 'application/json' };
  const signature = options.signature === undefined ? signBody(body, options.secret ?? SECRET) : options.signature;
  if (signature !== null) headers['X-Hook-Signature'] = signature;
  const res = await fetch(`${options.url ?? receiver.url}/webhooks/netbox${query}`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as { error?: string; status?: string; workflowId?: string } };
}

async function storeState() {
  return { blocks: await connections.gaiia.listAllIpBlocks(), ledger: await new Ledger(connections.db).forInstance(enabledId) };
}

async function expectNoWorkflow(instanceId: number) {
  await expect(env.client.workflow.getHandle(realtimeWorkflowId(instanceId, config.temporal.taskQueue)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

describe('rejections signal nothing and change nothing', () => {
  const cases: Array<[string, () => Promise<{ status: number; body: { error?: string } }>, number, RegExp]> = [
    ['no instanceId in the URL', () => post(prefixEvent(), { instanceId: null }), 400, /^instanceId:/],
    ['a malformed instanceId', () => post(prefixEvent(), { instanceId: '1 OR 1=1' }), 400, /^instanceId:/],
    ['a missing signature', () => post(prefixEvent(), { signature: null }), 401, /X-Hook-Signature: missing/],
    ['a signature made with another secret', () => post(prefixEvent(), { secret: 'not-the-secret' }), 401, /X-Hook-Signature: does not match/],
    ['a signature that is not hex', () => post(prefixEvent(), { signature: 'zz' }), 401, /X-Hook-Signature: does not match/],
    [
      'a body changed after signing',
      () => post(prefixEvent(8), { signature: signBody(prefixEvent(7), SECRET) }),
      401,
      /X-Hook-Signature: does not match/,
    ],
    ['an unknown instance', () => post(prefixEvent(), { instanceId: 999 }), 404, /no NetBox instance with id 999/],
    ['an instance whose prefix sync is disabled', () => post(prefixEvent(), { instanceId: disabledId }), 409, /prefix sync disabled/],
    ['a body that is not JSON', () => post('{"event": "created",'), 400, /^body: not JSON/],
    [
      'a body that fails the schema',
      () => post(JSON.stringify({ ...JSON.parse(prefixEvent()), data: { id: 'seven' } })),
      400,
      /^data\.id:/,
    ],
    [
      'an object type this integration does not handle',
      () => post(JSON.stringify({ ...JSON.parse(prefixEvent()), object_type: 'dcim.device' })),
      400,
      /^object_type: "dcim.device" is not handled/,
    ],
    [
      'a body over 1 MiB',
      () => post(JSON.stringify({ ...JSON.parse(prefixEvent()), padding: 'x'.repeat(WEBHOOK_BODY_LIMIT) })),
      413,
      /over 1048576 bytes/,
    ],
  ];

  test.each(cases)('%s', async (_name, send, status, message) => {
    const before = await storeState();
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.error).toMatch(message);
    await expectNoWorkflow(enabledId);
    await expectNoWorkflow(disabledId);
    expect(await storeState()).toEqual(before);
  });
});

test('the health endpoint answers', async () => {
  const res = await fetch(`${receiver.url}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
});

test('a signed webhook is accepted only once its signal is in the workflow history, and the signal is small and secret-free', async () => {
  const res = await post(prefixEvent(7));
  expect(res).toEqual({ status: 202, body: { status: 'accepted', workflowId: realtimeWorkflowId(enabledId, config.temporal.taskQueue) } });
  // 2xx came after signal-with-start resolved, so the signal is already durable: no waiting needed.
  const handle = env.client.workflow.getHandle(realtimeWorkflowId(enabledId, config.temporal.taskQueue));
  const history = await handle.fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
  expect(signals).toHaveLength(1);
  const payload = signals[0].workflowExecutionSignaledEventAttributes!.input!.payloads![0];
  expect(JSON.parse(Buffer.from(payload.data!).toString())).toEqual([
    { objectType: 'prefix', objectId: 7, event: 'updated', timestamp: '2025-01-01T10:00:00.000000+00:00' },
  ]);
  const everything = JSON.stringify(history);
  expect(everything).not.toContain(SECRET);
  expect(everything).not.toContain(TOKEN);
  await handle.terminate('test done');
});

test('concurrent webhooks share signals (group commit), and every one is answered only once its signal is durable', async () => {
  const handle = env.client.workflow.getHandle(realtimeWorkflowId(enabledId, config.temporal.taskQueue));
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) => post(prefixEvent(100 + i))));
  expect(results.map((r) => r.status)).toEqual(Array(60).fill(202));
  const signals = ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
  const changes = signals.flatMap((e) => JSON.parse(Buffer.from(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0].data!).toString()) as Array<{ objectId: number }>);
  expect(changes.map((c) => c.objectId).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => 100 + i));
  expect(signals.length).toBeLessThan(60);
  await handle.terminate('test done');
});

test('the log holds no secret, token or signature', () => {
  const all = logLines.join('');
  expect(all).toContain('webhook rejected');
  expect(all).toContain('webhook accepted');
  expect(all).not.toContain(SECRET);
  expect(all).not.toContain(TOKEN);
  expect(all).not.toContain(signBody(prefixEvent(7), SECRET));
  expect(all.toLowerCase()).not.toContain('x-hook-signature":"');
});

test('Temporal unreachable → 503, so NetBox records a failed delivery', async () => {
  const port = await freePort();
  const offline = await startReceiver({
    host: '127.0.0.1',
    port: 0,
    instances: connections.instances,
    signaller: new TemporalChangeSignaller({ address: `127.0.0.1:${port}`, namespace: 'default', taskQueue: 'nowhere', timeoutMs: 2_000 }),
    logger: receiverLogger('silent'),
  });
  try {
    const res = await post(prefixEvent(), { url: offline.url });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/Temporal is unavailable/);
  } finally {
    await offline.close();
  }
});

test('Temporal unreachable for a moment → retried within the budget, answered 202 once the signal is durable', async () => {
  // A TCP proxy in front of the dev server, listening only after 1.5 s: Temporal "comes back" mid-webhook.
  const [host, port] = env.address.split(':');
  const proxy = net.createServer((socket) => {
    const upstream = net.connect(Number(port), host);
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const proxyPort = await freePort();
  const flaky = await startReceiver({
    host: '127.0.0.1',
    port: 0,
    instances: connections.instances,
    signaller: new TemporalChangeSignaller({ address: `127.0.0.1:${proxyPort}`, namespace: 'default', taskQueue: config.temporal.taskQueue, timeoutMs: 6_000 }),
    logger: receiverLogger('silent'),
  });
  const comesBack = setTimeout(() => proxy.listen(proxyPort, '127.0.0.1'), 1_500);
  try {
    const started = Date.now();
    const res = await post(prefixEvent(9), { url: flaky.url });
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    const handle = env.client.workflow.getHandle(realtimeWorkflowId(enabledId, config.temporal.taskQueue));
    const signals = ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals.length).toBeGreaterThanOrEqual(1);
    await handle.terminate('test done');
  } finally {
    clearTimeout(comesBack);
    await flaky.close();
    await new Promise((r) => proxy.close(r));
  }
});

test('retry policy: a signal refused while the workflow closes is retried soon, a bad request never', () => {
  const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
  const closing = new ServiceError('Failed to signalWithStart Workflow', {
    cause: grpcError(8, 'workflow operation can not be applied because workflow is closing'),
  });
  expect(retryDelayMs(closing, 1)).toBeLessThanOrEqual(50);
  expect(retryDelayMs(closing, 20)).toBeLessThanOrEqual(100);
  expect(retryDelayMs(grpcError(14, 'connection refused'), 1)).toBe(100);
  expect(retryDelayMs(grpcError(14, 'connection refused'), 10)).toBe(1_000);
  expect(retryDelayMs(grpcError(3, 'invalid argument'), 1)).toBeNull();
  expect(retryDelayMs(grpcError(4, 'deadline exceeded'), 1)).toBeNull();
});
