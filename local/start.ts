import { developmentApiKeys } from '../lib/auth/api-keys';
import { intEnv } from '../lib/config';
import { startLocalStack } from './stack';

/**
 * `npm start`: Longtail on this machine. The HTTP API on PORT (3000), every AWS service on
 * LONGTAIL_AWS_PORT (4566), data kept in LONGTAIL_DATA_DIR (.data/) across restarts.
 */
const main = async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const stack = await startLocalStack({
    apiPort: intEnv('PORT', 3000),
    awsPort: intEnv('LONGTAIL_AWS_PORT', 4566),
    dataDir: process.env.LONGTAIL_DATA_DIR,
    batchConcurrency: intEnv('LONGTAIL_BATCH_CONCURRENCY', 2),
    onWorkerLog: (jobName, line) => {
      if (process.env.LONGTAIL_QUIET_WORKERS !== '1') console.log(`[batch ${jobName}] ${line}`);
    },
  });
  const key = (process.env.LONGTAIL_API_KEYS ?? developmentApiKeys).split(',')[0]?.split(':')[1];
  console.log(`Longtail is running.

  HTTP API      ${stack.apiUrl}
  console       ${stack.apiUrl}/console   (an operator's key: ${key})
  AWS endpoint  ${stack.awsEndpoint}   (export AWS_ENDPOINT_URL=${stack.awsEndpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${stack.region})
  inputs        s3://${stack.names.inputsBucket}/
  outputs       s3://${stack.names.outputsBucket}/

Try it:
  curl -s ${stack.apiUrl}/models -H 'Authorization: Bearer ${key}'
  curl -s -X POST ${stack.apiUrl}/jobs -H 'Authorization: Bearer ${key}' -H 'content-type: application/json' \\
    -d '{"model":"churn-risk","input":{"records":[{"tenure_months":3,"monthly_charges":95.5,"support_calls":4,"contract":"month-to-month","paperless_billing":true,"senior_citizen":false}]}}'

Ctrl-C stops it.`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
