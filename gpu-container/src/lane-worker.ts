import { workerData } from 'piscina';
import { openSession } from './execution-provider';
import type { BatchOutcome } from './batch-pipeline';
import type { Prediction } from '../../lib/models/tensors';
import type { LaneData, LaneTask } from './inference-lanes';
import { createInputEncoder } from './model-inputs';
import { predict } from './predict';

const { files } = workerData as LaneData;
// One intra-op thread: the lanes are the parallelism. Opened as the thread starts; a failure
// reaches the first task, which is the pool's opening call.
const session = openSession(files.onnxPath, 'cpu', 1).then((opened) => opened.session);
session.catch(() => undefined);
const encoder = createInputEncoder(files.manifest, { preprocessThreads: 0, reuseTensor: true });

/** Piscina task: one batch through this lane's session, or `{ open: true }` once at start. */
export default async (task: LaneTask): Promise<BatchOutcome<Prediction> | null> => {
  const lane = await session;
  if (!('records' in task)) return null;
  const encoded = await encoder.encode(task.records);
  return {
    predictions: await predict(lane, files.manifest, encoded, files.alphabet),
    failures: encoded.failures,
  };
};
