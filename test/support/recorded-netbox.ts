import fs from 'node:fs';
import path from 'node:path';

/**
 * Exchanges recorded from a real NetBox by scripts/real-netbox/record-fixtures.ts (test/fixtures/real-netbox-<v>/api),
 * and webhook bodies recorded by scripts/real-netbox/verify-webhooks.sh (…/webhooks).
 */
export interface RecordedExchange {
  name: string;
  /** The Authorization header as sent; `{v1}`/`{v2}` stand for the server's valid tokens. null: none sent. */
  authorization: string | null;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
  status: number;
  apiVersion: string | null;
  response: unknown;
}

const FIXTURES = path.resolve(__dirname, '../fixtures');

/** The real NetBox versions with recordings, e.g. ['4.7.3']. */
export function recordedVersions(): string[] {
  return fs
    .readdirSync(FIXTURES)
    .filter((d) => d.startsWith('real-netbox-'))
    .map((d) => d.slice('real-netbox-'.length));
}

export function recordedExchanges(version: string): RecordedExchange[] {
  const dir = path.join(FIXTURES, `real-netbox-${version}`, 'api');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as RecordedExchange);
}

/** Recorded webhook bodies by event (`created`, `updated`, `deleted`): the exact bytes NetBox sent. */
export function recordedWebhookBodies(version: string): Record<string, string> {
  const dir = path.join(FIXTURES, `real-netbox-${version}`, 'webhooks');
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.body.json'))) {
    const event = /-prefix-(\w+)\.body\.json$/.exec(f)?.[1];
    if (event) out[event] = fs.readFileSync(path.join(dir, f), 'utf8');
  }
  return out;
}

/**
 * The shape of a JSON value: object keys (sorted) with the shapes of their values, the shape of an array's
 * elements, and the type of a scalar. Two answers with the same shape differ only in values.
 */
export function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const shapes = [...new Set(value.map((v) => JSON.stringify(shapeOf(v))))].sort();
    return shapes.map((s) => JSON.parse(s) as unknown);
  }
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .map((k) => [k, shapeOf(obj[k])]),
    );
  }
  return typeof value;
}
