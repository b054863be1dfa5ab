import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { gpuVisible, supportedBackends } from './execution-provider';
import type { ProviderChoice } from './execution-provider';
import { loadModelFiles } from './model-loader';
import { openShardModel } from './shard-model';

/**
 * `worker --self-check`: the first thing to run on a new GPU instance. Prints what ONNX Runtime
 * can use and runs each installed model's example record on the provider the worker would pick.
 */
export const selfCheck = async (): Promise<number> => {
  const modelsDir = process.env.LONGTAIL_MODELS_DIR ?? resolve('models');
  const choice = (process.env.LONGTAIL_EXECUTION_PROVIDER ?? 'auto') as ProviderChoice;
  console.log(
    JSON.stringify({
      onnxruntime: ort.env.versions,
      backends: supportedBackends(),
      gpuVisible: gpuVisible(),
    }),
  );
  let failures = 0;
  for (const entry of await readdir(modelsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const name = entry.name;
    try {
      const files = await loadModelFiles(modelsDir, name);
      const { model, provider, close } = await openShardModel(files, choice);
      const started = performance.now();
      const {
        predictions: [prediction],
      } = await model.run([files.manifest.example]);
      const ms = +(performance.now() - started).toFixed(2);
      await close();
      console.log(JSON.stringify({ model: name, provider, ms, prediction }));
    } catch (error) {
      failures++;
      console.log(JSON.stringify({ model: name, error: (error as Error).message }));
    }
  }
  return failures === 0 ? 0 : 1;
};
