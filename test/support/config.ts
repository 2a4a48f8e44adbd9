import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type AppConfig } from '../../activities/store/config';

/** A config with its own temporary data folder and SQLite store, so test files never share state. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nps-test-'));
  const base = loadConfig({ ...process.env, NPS_DATA_DIR: dataDir, DATABASE_URL: '', TEMPORAL_ADDRESS: '' } as NodeJS.ProcessEnv);
  return {
    ...base,
    databaseUrl: `sqlite:${path.join(dataDir, 'store.sqlite')}`,
    secretKey: crypto.randomBytes(32).toString('base64'),
    temporal: { ...base.temporal, taskQueue: `test-${crypto.randomUUID()}` },
    ...overrides,
  };
}
