/** temporal-dev.yml cannot be run here (no Docker engine); this checks it parses and names what the README says. */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '..');
const compose = parse(fs.readFileSync(path.join(root, 'temporal-dev.yml'), 'utf8'));

test('names the services the README lists', () => {
  expect(Object.keys(compose.services).sort()).toEqual(['postgresql', 'receiver', 'temporal', 'temporal-ui', 'worker']);
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  for (const service of Object.keys(compose.services)) expect(readme).toContain(`\`${service}\``);
});

test('points the worker and receiver at the Temporal service and a shared PostgreSQL store', () => {
  for (const name of ['worker', 'receiver']) {
    const env = compose.services[name].environment;
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgresql:5432\//);
    expect(env.NPS_SECRET_KEY).toBeDefined();
  }
  expect(compose.services.temporal.depends_on.postgresql.condition).toBe('service_healthy');
  expect(compose.services['temporal-ui'].environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
});

test('every command it runs exists in the repository', () => {
  for (const name of ['worker', 'receiver']) {
    const file = compose.services[name].command.find((a: string) => a.endsWith('.ts'));
    expect(fs.existsSync(path.join(root, file))).toBe(true);
  }
});
