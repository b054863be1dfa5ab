/**
 * `npm run models:push -- <name> <model.onnx | folder> [--manifest m.json] [--version v]
 * [--alias a] [--batch-axis n]`: kept for scripts written before the CLI; it is
 * `longtail models push` (cli/model-push.ts) with the local runtime's URL and key as defaults,
 * printing one JSON line.
 */
import { parseArgs } from 'node:util';
import { LongtailClient } from '../cli/client';
import { pushModel } from '../cli/model-push';

const main = async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      manifest: { type: 'string' },
      version: { type: 'string' },
      alias: { type: 'string', multiple: true },
      'batch-axis': { type: 'string' },
    },
  });
  const [name, source] = positionals;
  if (!name || !source)
    throw new Error(
      'Usage: npm run models:push -- <name> <model.onnx | folder> [--manifest m.json] [--version v] [--alias a]',
    );
  const client = new LongtailClient({
    apiUrl: process.env.LONGTAIL_API_URL ?? 'http://127.0.0.1:3000',
    apiKey: process.env.LONGTAIL_API_KEY ?? 'longtail-dev-key',
  });
  const checked = await pushModel(client, {
    name,
    source,
    manifestPath: values.manifest,
    version: values.version,
    aliases: values.alias,
    batchAxis: values['batch-axis'],
    onPart: (file, part, parts) => process.stderr.write(`${file}: part ${part} of ${parts}\n`),
  });
  console.log(
    JSON.stringify({
      ref: checked.ref,
      status: checked.status,
      error: checked.error,
      checksum: checked.checksum,
    }),
  );
  if (checked.status === 'failed') process.exitCode = 1;
};

main().catch((error: unknown) => {
  const { code, message } = error as Error & { code?: string };
  console.error(code ? `${code}: ${message}` : message);
  process.exitCode = 1;
});
