/**
 * Bundles workflows/ ahead of time (npm run build:workflows → dist/workflow-bundle.js). A worker started
 * with WORKFLOW_BUNDLE_PATH pointing at it skips bundling at start-up, which saves time and memory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

export async function bundleWorkflows(outFile = path.resolve(__dirname, '..', 'dist', 'workflow-bundle.js')): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '..', 'workflows') });
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, code);
  return outFile;
}

if (require.main === module) {
  bundleWorkflows().then((file) => console.log(`workflow bundle written to ${file}`));
}
