import { startLocalStack } from '../../local/stack';

/**
 * The local runtime as its own process, for tests that kill it as a machine would (SIGKILL of
 * its process group): `tsx test/support/stack-process.ts <dataDir> <apiKeys>`. It prints one line,
 * `READY <json>` with its addresses and names, once it serves.
 */
const [dataDir, apiKeys] = process.argv.slice(2);
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
startLocalStack({
  apiPort: 0,
  awsPort: 0,
  dataDir,
  apiKeys,
  batchConcurrency: 2,
  registerExampleModels: true,
}).then(
  (stack) => {
    process.stdout.write(
      `READY ${JSON.stringify({ apiUrl: stack.apiUrl, awsEndpoint: stack.awsEndpoint, region: stack.region, names: stack.names })}\n`,
    );
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
