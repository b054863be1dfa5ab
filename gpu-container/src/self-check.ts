import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { gpuVisible, openSession, supportedBackends } from './execution-provider';
import { loadModelFiles } from './model-loader';
import { predict } from './predict';

/**
 * `worker --self-check`: the first thing to run on a new GPU instance. Prints what ONNX Runtime
 * can use and runs each installed model's example record on the provider the worker would pick.
 */
export const selfCheck = async (): Promise<number> => {
  const modelsDir = process.env.LONGTAIL_MODELS_DIR ?? resolve('models');
  const choice = (process.env.LONGTAIL_EXECUTION_PROVIDER ?? 'auto') as 'auto' | 'cuda' | 'cpu';
  console.log(
    JSON.stringify({
      onnxruntime: ort.env.versions,
      backends: supportedBackends(),
      gpuVisible: gpuVisible(),
    }),
  );
  let failures = 0;
  for (const name of await readdir(modelsDir)) {
    try {
      const { manifest, onnxPath } = await loadModelFiles(modelsDir, name);
      const { session, provider } = await openSession(onnxPath, choice);
      const started = performance.now();
      const [prediction] = await predict(session, manifest, [manifest.example]);
      console.log(
        JSON.stringify({ model: name, provider, ms: +(performance.now() - started).toFixed(2), prediction }),
      );
    } catch (error) {
      failures++;
      console.log(JSON.stringify({ model: name, error: (error as Error).message }));
    }
  }
  return failures === 0 ? 0 : 1;
};
