import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Pool } from 'pg';
import type { Database } from './schema';
import { migrateToLatest, type SqlDialectName } from './migrations';

export type StoreDb = Kysely<Database>;

export interface OpenedDatabase {
  db: StoreDb;
  dialect: SqlDialectName;
  close(): Promise<void>;
}

const opened = new Map<string, Promise<OpenedDatabase>>();

/**
 * Opens (once per URL and process) the project's store and brings its schema up to date.
 * `sqlite:<file>` is the embedded default; `postgres://…` targets a shared PostgreSQL.
 */
export function openDatabase(databaseUrl: string): Promise<OpenedDatabase> {
  let db = opened.get(databaseUrl);
  if (!db) {
    db = connect(databaseUrl);
    opened.set(databaseUrl, db);
    db.catch(() => opened.delete(databaseUrl));
  }
  return db;
}

/** Closes a database opened with openDatabase, so a later open starts afresh. */
export async function closeDatabase(databaseUrl: string): Promise<void> {
  const db = opened.get(databaseUrl);
  opened.delete(databaseUrl);
  if (db) await (await db).close();
}

async function connect(databaseUrl: string): Promise<OpenedDatabase> {
  let dialect: SqlDialectName;
  let db: StoreDb;
  if (databaseUrl.startsWith('postgres://') || databaseUrl.startsWith('postgresql://')) {
    dialect = 'postgres';
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new Pool({ connectionString: databaseUrl, max: 10 }) }) });
  } else if (databaseUrl.startsWith('sqlite:')) {
    dialect = 'sqlite';
    const file = databaseUrl.slice('sqlite:'.length);
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const sqlite = new SQLite(file);
    // WAL lets the CLI read while the worker writes; busy_timeout waits out a writer instead of failing.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = NORMAL');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  } else {
    throw new Error(
      `DATABASE_URL must start with 'sqlite:' (embedded file) or 'postgres://' (shared database); got '${redactUrl(databaseUrl)}'`,
    );
  }
  await migrateToLatest(db, dialect);
  return { db, dialect, close: () => db.destroy() };
}

/** Drops any password from a URL before it goes into a message. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
