import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelVersion } from '../../lib/domain/model-version';
import { LongtailError } from '../../lib/errors';
import type { ModelManifest } from '../../lib/models/manifest';
import { modelSignatureSchema, ortTypeOf, signatureFromOrt } from '../../lib/models/signature';
import type { ModelSignature, OipDatatype, TensorSpec } from '../../lib/models/signature';
import type { TensorValues } from '../../lib/models/tensor-values';
import { toOrtData } from './tensor-data';
import { logger } from '../../lib/logger';
import type { ModelRegistry } from '../../lib/ports/model-registry';
import { ObjectNotFound } from '../../lib/ports/object-store';
import type { ObjectStore } from '../../lib/ports/object-store';
import { recordModelCheck } from '../../lib/use-cases/record-model-check';
import type { ModelCheckOutcome } from '../../lib/use-cases/record-model-check';
import { ChecksumMismatch, downloadModelVersion } from './model-download';
import { readAlphabet } from './model-loader';
import { openShardModel } from './shard-model';

/** A manifest that names tensors the graph does not have, or with another type or rank, cannot run. */
const manifestMismatch = (manifest: ModelManifest, signature: ModelSignature) => {
  const problems: string[] = [];
  const compare = (
    declared: { name: string; dtype: string; shape: unknown[] }[],
    actual: TensorSpec[],
    kind: string,
  ) => {
    for (const tensor of declared) {
      const found = actual.find((t) => t.name === tensor.name);
      const type = found && ortTypeOf[found.datatype];
      if (!found)
        problems.push(
          `${kind} ${tensor.name} is not in the graph (it has ${actual.map((t) => t.name).join(', ')})`,
        );
      else if (type !== tensor.dtype)
        problems.push(`${kind} ${tensor.name} is ${type} in the graph, ${tensor.dtype} in the manifest`);
      else if (found.shape.length !== tensor.shape.length)
        problems.push(
          `${kind} ${tensor.name} has rank ${found.shape.length} in the graph, ${tensor.shape.length} in the manifest`,
        );
    }
  };
  compare(manifest.inputs, signature.inputs, 'input');
  compare(manifest.outputs, signature.outputs, 'output');
  return problems;
};

const zeroOf: Record<OipDatatype, () => string | number | bigint | boolean> = {
  BOOL: () => false,
  BYTES: () => '',
  INT64: () => 0n,
  UINT64: () => 0n,
  UINT8: () => 0,
  UINT16: () => 0,
  UINT32: () => 0,
  INT8: () => 0,
  INT16: () => 0,
  INT32: () => 0,
  FP16: () => 0,
  FP32: () => 0,
  FP64: () => 0,
};

/** Zeros in an input's declared shape, each symbolic dimension at 1. */
const zeroTensor = ({ name, datatype, shape }: TensorSpec): [string, ort.Tensor] => {
  const dims = shape.map((dim) => (typeof dim === 'number' && dim > 0 ? dim : 1));
  const values = Array.from({ length: dims.reduce((a, b) => a * b, 1) }, zeroOf[datatype]) as TensorValues;
  return [name, new ort.Tensor(ortTypeOf[datatype], toOrtData(datatype, values) as never, dims)];
};

const failed = (code: string, error: unknown): ModelCheckOutcome => ({
  ok: false,
  error: { code, message: error instanceof Error ? error.message : String(error) },
});

/**
 * Whether a downloaded version can serve: ONNX Runtime loads the graph (on the CPU: the check
 * proves the file, not the GPU), its manifest fits the graph, and one inference runs (the
 * manifest's example, or zeros in every input's declared shape, symbolic dimensions at 1).
 */
export const checkModelFiles = async (version: ModelVersion, folder: string): Promise<ModelCheckOutcome> => {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(join(folder, version.onnxFile), {
      executionProviders: ['cpu'],
    });
  } catch (error) {
    return failed('INVALID_MODEL', error);
  }
  try {
    const signature = modelSignatureSchema.parse({
      ...signatureFromOrt(session.inputMetadata, session.outputMetadata),
      ...(version.batchAxis !== undefined ? { batchAxis: version.batchAxis } : {}),
    });
    const manifest = version.manifest;
    if (!manifest) {
      await session.run(Object.fromEntries(signature.inputs.map(zeroTensor)));
      return { ok: true, signature };
    }
    const problems = manifestMismatch(manifest, signature);
    if (problems.length > 0)
      return failed('MANIFEST_MISMATCH', `The manifest does not fit the graph: ${problems.join('; ')}.`);
    const alphabet = await readAlphabet(folder, manifest);
    const opened = await openShardModel(
      { manifest, onnxPath: join(folder, version.onnxFile), alphabet },
      'cpu',
      { lanes: 0, preprocessThreads: 0 },
    );
    try {
      await opened.model.run([manifest.example]);
    } finally {
      await opened.close();
    }
    return { ok: true, signature };
  } catch (error) {
    return failed(error instanceof LongtailError ? error.code : 'INFERENCE_FAILED', error);
  } finally {
    await session.release();
  }
};

/**
 * `LONGTAIL_CHECK_MODEL=<owner>/<name>/<version>`: the worker checks that version and records
 * the outcome. A version whose files are missing or not the registered bytes fails the check;
 * any other error (S3 or DynamoDB unreachable) exits 1 and leaves it `checking`, to be tried again.
 */
export const checkRegisteredModel = async (
  ref: string,
  deps: { registry: ModelRegistry; objects: ObjectStore },
): Promise<number> => {
  const [ownerId = '', name = '', versionName = ''] = ref.split('/');
  const version = await deps.registry.getVersion(ownerId, name, versionName);
  if (!version) {
    logger.error('No such model version to check', { ref });
    return 1;
  }
  if (version.status !== 'checking') {
    logger.info('Model version already decided', { ref, status: version.status });
    return 0;
  }
  // Not through the host's cache: it is keyed by checksum, so a version declaring bytes another
  // version already brought would be found there, and the bytes in its own folder never read.
  const folder = await mkdtemp(join(tmpdir(), 'longtail-check-'));
  try {
    let outcome: ModelCheckOutcome;
    try {
      await downloadModelVersion(version, folder, deps.objects);
      outcome = await checkModelFiles(version, folder);
    } catch (error) {
      if (error instanceof ChecksumMismatch) outcome = failed(error.code, error);
      else if (error instanceof ObjectNotFound) outcome = failed('MODEL_FILE_MISSING', error);
      else throw error;
    }
    await recordModelCheck(version, outcome, deps);
    logger.info('Model version checked', {
      ref,
      ...(outcome.ok ? { status: 'ready' } : { status: 'failed', error: outcome.error }),
    });
    return 0;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
};
