import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type Logger, type LogLevel, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import path from 'node:path';
import { loadConfig } from '../../activities/store/config';
import { ensureTemporalCli } from '../../client/temporal-server';

let runtimeInstalled = false;

/**
 * A real `temporal server start-dev` (in memory) from the pinned CLI; one per test file.
 * `logger` replaces the SDK's (worker and workflow logs) for the whole file, e.g. to capture what it logs.
 */
export async function startTemporal(options: { logger?: Logger } = {}): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    // ERROR by default: the tests that make workflows fail on purpose would otherwise print hundreds of WARN lines
    // ("Workflow failed", "Activity failed") in a passing run. TEST_SDK_LOG_LEVEL=WARN brings them back.
    Runtime.install({ logger: options.logger ?? new DefaultLogger((process.env.TEST_SDK_LOG_LEVEL ?? 'ERROR') as LogLevel) });
    runtimeInstalled = true;
  }
  const executable = ensureTemporalCli(loadConfig());
  // The SDK waits only a few seconds for the server; a busy machine can need another try.
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createLocal({
        server: { executable: { type: 'existing-path', path: executable }, extraArgs: ['--log-level', 'error'] },
      });
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflows bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}
