import { loadConfig } from '../../activities/store/config';
import { ensureTemporalCli } from '../../client/temporal-server';
import { requireDemoData } from '../netbox-standin/demo-dump';

/** Installs the pinned temporal CLI once before any test file starts a dev server. */
export default async function globalSetup(): Promise<void> {
  requireDemoData();
  process.env.TEMPORAL_CLI_PATH = ensureTemporalCli(loadConfig(), (line) => console.log(line));
}
