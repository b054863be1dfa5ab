import { join } from 'node:path';
import type { PlannedModel } from '../../lib/domain/job-plan';
import type { ServedModelShape } from '../../lib/models/record-check';
import { modelSignatureSchema } from '../../lib/models/signature';
import type { TensorRecord } from '../../lib/models/tensor-records';
import type { TensorOutputs } from '../../lib/models/tensors';
import type { ShardModel } from './batch-pipeline';
import { openSession } from './execution-provider';
import type { ProviderChoice } from './execution-provider';
import { readAlphabet } from './model-loader';
import { openShardModel } from './shard-model';
import type { OpenedModel, ShardModelOptions } from './shard-model';
import { runTensorBatch } from './tensor-batch';

export interface OpenedServedModel extends Omit<OpenedModel, 'model'> {
  model: ShardModel;
  /** What its records must look like, for record admission. */
  served: ServedModelShape;
}

/**
 * Opens the version a job pinned, from the folder its files were fetched to: a manifest model
 * through the field encoders (and, on the CPU, inference lanes); a model without one as tensors,
 * its records Open Inference Protocol requests or compact objects, its answers the same.
 */
export const openServedModel = async (
  planned: PlannedModel,
  folder: string,
  choice: ProviderChoice,
  options: ShardModelOptions = {},
): Promise<OpenedServedModel> => {
  const onnxPath = join(folder, planned.onnxFile);
  const { manifest } = planned;
  if (manifest) {
    const alphabet = await readAlphabet(folder, manifest);
    const opened = await openShardModel({ manifest, onnxPath, alphabet }, choice, options);
    return { ...opened, served: { name: planned.name, manifest } };
  }
  const signature = modelSignatureSchema.parse(planned.signature);
  const { session, provider } = await openSession(onnxPath, choice);
  const identity = { name: planned.name, version: planned.version };
  return {
    model: {
      // Tensor records were checked on admission: the checked record is what runs.
      run: async (records) => ({
        // Plain JSON objects (OIP responses or compact ones), written as they are.
        predictions: (await runTensorBatch(
          session,
          signature,
          records as unknown as TensorRecord[],
          identity,
        )) as unknown as TensorOutputs[],
        failures: records.map(() => null),
      }),
      parallelBatches: 1,
    },
    provider,
    lanes: 0,
    preprocessThreads: 0,
    close: () => session.release(),
    served: { name: planned.name, signature },
  };
};
