/**
 * `npm run models:draft -- <model.onnx> [name]`: prints a manifest draft read from the graph;
 * kept for scripts written before the CLI, it is `longtail models init <model.onnx> --out -`
 * (cli/model-draft.ts).
 */
import { draftManifest } from '../cli/model-draft';

const main = async () => {
  const [file, name] = process.argv.slice(2);
  if (!file) throw new Error('Usage: npm run models:draft -- <model.onnx> [name]');
  console.log(JSON.stringify(await draftManifest(file, name), null, 2));
};

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
