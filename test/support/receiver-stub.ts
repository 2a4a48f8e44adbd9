import crypto from 'node:crypto';
import http from 'node:http';

export interface ReceivedWebhook {
  /** Path and query, e.g. `/webhooks/netbox?instanceId=1`. */
  url: string;
  signature: string | undefined;
  body: string;
}

/**
 * A stand-in for the webhook receiver (issue 3): records what NetBox posts and answers 200. The lifecycle
 * tests check what arrives is signed with the secret the store holds, which is what the real receiver verifies.
 */
export async function startReceiverStub(): Promise<{ url: string; received: ReceivedWebhook[]; close(): Promise<void> }> {
  const received: ReceivedWebhook[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', signature: req.headers['x-hook-signature'] as string | undefined, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** NetBox's `X-Hook-Signature`: hex HMAC-SHA512 of the raw body keyed with the webhook secret. */
export function signatureOf(body: string, secret: string): string {
  return crypto.createHmac('sha512', secret).update(body).digest('hex');
}
