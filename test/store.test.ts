/**
 * The store: instances with encrypted credentials, on SQLite (default) or PostgreSQL (TEST_DATABASE_URL).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuplicateInstanceError, InvalidInputError, UnknownInstanceError } from '../activities/errors';
import { closeDatabase, openDatabase, type StoreDb } from '../activities/store/db';
import { InstanceStore } from '../activities/store/instances';
import { SecretBox } from '../activities/store/secrets';

const databaseUrl = process.env.TEST_DATABASE_URL || `sqlite:${path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nps-store-')), 'store.sqlite')}`;
const key = crypto.randomBytes(32).toString('base64');
let db: StoreDb;
let store: InstanceStore;

beforeAll(async () => {
  db = (await openDatabase(databaseUrl)).db;
  store = new InstanceStore(db, SecretBox.fromBase64(key));
});
beforeEach(async () => {
  await db.deleteFrom('prefix_block_ledger').execute();
  await db.deleteFrom('netbox_instances').execute();
});
afterAll(async () => {
  await closeDatabase(databaseUrl);
});

const TOKEN = '0123456789abcdef0123456789abcdef01234567';

test('the first instance is called Default; later ones need their own unique name', async () => {
  expect((await store.create({ baseUrl: 'https://a', token: TOKEN })).name).toBe('Default');
  await expect(store.create({ baseUrl: 'https://b', token: TOKEN })).rejects.toThrow(/a name is required: instance 'Default' already exists/);
  await expect(store.create({ name: 'Default', baseUrl: 'https://b', token: TOKEN })).rejects.toBeInstanceOf(DuplicateInstanceError);
  expect((await store.create({ name: 'lab', baseUrl: 'https://b', token: TOKEN })).name).toBe('lab');
  await expect(store.create({ name: '../x', baseUrl: 'https://b', token: TOKEN })).rejects.toBeInstanceOf(InvalidInputError);
  expect((await store.list()).map((i) => i.name)).toEqual(['Default', 'lab']);
});

test('tokens and webhook secrets are stored encrypted and come back only through their accessors', async () => {
  const instance = await store.create({ baseUrl: 'https://a', token: TOKEN });
  await store.setWebhookSecret(instance.id, 'hook-secret-value');
  const raw = JSON.stringify(await db.selectFrom('netbox_instances').selectAll().execute());
  expect(raw).not.toContain(TOKEN);
  expect(raw).not.toContain('hook-secret-value');
  expect(JSON.stringify(await store.list())).not.toContain(TOKEN);
  expect(await store.tokenFor(instance.id)).toBe(TOKEN);
  expect(await store.webhookSecretFor(instance.id)).toBe('hook-secret-value');
});

test('a blank token on update keeps the current one', async () => {
  const instance = await store.create({ baseUrl: 'https://a', token: TOKEN });
  await store.update(instance.id, { token: '   ', baseUrl: 'https://b' });
  expect(await store.tokenFor(instance.id)).toBe(TOKEN);
  await store.update(instance.id, { token: null });
  expect(await store.tokenFor(instance.id)).toBe(TOKEN);
  await store.update(instance.id, { token: 'f'.repeat(40) });
  expect(await store.tokenFor(instance.id)).toBe('f'.repeat(40));
  expect((await store.requireById(instance.id)).baseUrl).toBe('https://b');
});

test('unknown names fail with the known ones listed (names are case-sensitive)', async () => {
  await expect(store.requireByName('Default')).rejects.toThrow(/none is configured yet; add one first/);
  await store.create({ baseUrl: 'https://a', token: TOKEN });
  const err = await store.requireByName('default').catch((e: Error) => e);
  expect(err).toBeInstanceOf(UnknownInstanceError);
  expect((err as Error).message).toBe("no NetBox instance named 'default'; known instances: 'Default' (names are case-sensitive)");
});

test('role filters are validated, de-duplicated and sorted', async () => {
  const instance = await store.create({ baseUrl: 'https://a', token: TOKEN });
  expect((await store.setPrefixSync(instance.id, true, [4, 1, 4])).roleFilter).toEqual([1, 4]);
  await expect(store.setPrefixSync(instance.id, true, [0])).rejects.toThrow(/positive integers/);
});

test('a different key cannot read the secrets, and says which setting is wrong', async () => {
  const instance = await store.create({ baseUrl: 'https://a', token: TOKEN });
  const other = new InstanceStore(db, SecretBox.fromBase64(crypto.randomBytes(32).toString('base64')));
  await expect(other.tokenFor(instance.id)).rejects.toThrow(/NPS_SECRET_KEY .* is not the key it was saved with/);
  expect(() => SecretBox.fromBase64('c2hvcnQ=')).toThrow(/32 random bytes/);
});

test('a DATABASE_URL of an unknown kind is refused without echoing a password', async () => {
  await expect(openDatabase('mysql://user:hunter2@db/x')).rejects.toThrow(/must start with 'sqlite:'.*mysql:\/\/user:\*\*\*@db\/x/);
});

test('ids from outside (a webhook URL) that no row can have are simply not found, on PostgreSQL too', async () => {
  for (const id of [0, -1, 9_999_999_999, 1.5, Number.NaN]) expect(await store.findById(id)).toBeUndefined();
});

test('a removed instance\'s id is never given to a new one (workflow ids and webhook URLs are keyed by it)', async () => {
  const a = await store.create({ name: 'keep', baseUrl: 'https://a', token: TOKEN });
  const b = await store.create({ name: 'gone', baseUrl: 'https://b', token: TOKEN });
  await store.remove(b.id);
  const c = await store.create({ name: 'new', baseUrl: 'https://c', token: TOKEN });
  expect(c.id).toBeGreaterThan(b.id);
  await store.remove(c.id);
  await store.remove(a.id);
  const d = await store.create({ name: 'newer', baseUrl: 'https://d', token: TOKEN });
  expect(d.id).toBeGreaterThan(c.id);
  expect((await store.requireById(d.id)).name).toBe('newer');
});
