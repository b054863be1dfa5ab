import type { ModelManifest } from './manifest';
import { toModelRecord } from './record-schema';
import type { RecordCheck } from './record-schema';
import { modelSignatureSchema } from './signature';
import { checkTensorRecord } from './tensor-records';

/** What a version says about its records: a manifest's fields, or (without one) the graph's signature. */
export interface ServedModelShape {
  name: string;
  manifest?: ModelManifest;
  signature?: unknown;
}

/**
 * How a record is checked and read for a model: by its manifest's fields (JSON or CSV), or,
 * for a model served as tensors, against its graph's signature (an Open Inference Protocol
 * request or a compact object). The API and the worker check records the same way.
 */
export const recordCheckerOf = (
  model: ServedModelShape,
): ((value: unknown, header?: string[]) => RecordCheck) => {
  const { manifest } = model;
  if (manifest) return (value, header) => toModelRecord(manifest, value, header);
  const signature = modelSignatureSchema.parse(model.signature);
  return (value) => {
    const check = checkTensorRecord(signature, value);
    return check.ok ? { ok: true, record: check.record as unknown as Record<string, unknown> } : check;
  };
};
