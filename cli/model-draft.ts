/**
 * A manifest draft for an ONNX file, read from its graph, for a model that should take named
 * fields rather than tensors. A float input [batch, N] becomes N number fields; [batch, 3, H, W]
 * an image field; a [batch, 1] output a binary classifier, [batch, K] a K-class one. The user
 * edits the names, labels and example, then pushes the model with it.
 */
import { basename } from 'node:path';
import { modelManifestSchema } from '../lib/models/manifest';
import { CliError } from './errors';

type Metadata = { name: string; isTensor: boolean; type?: string; shape?: readonly (number | string)[] };

const sizeOf = (dimension: number | string | undefined) =>
  typeof dimension === 'number' && dimension > 0 ? dimension : undefined;

const inputDraft = (input: Metadata) => {
  const shape = input.shape ?? [];
  if (input.type !== 'float32')
    throw new CliError(
      `Input ${input.name} is ${input.type}: a manifest takes float32 inputs; serve the model as tensors instead (register it without a manifest).`,
    );
  if (shape.length === 4 && sizeOf(shape[1]) === 3) {
    const height = sizeOf(shape[2]) ?? 224;
    const width = sizeOf(shape[3]) ?? height;
    return {
      fields: [
        { name: 'image', type: 'image', description: 'A PNG, JPEG, WebP or TIFF image, base64-encoded.' },
      ],
      input: {
        name: input.name,
        dtype: 'float32',
        shape: ['batch', 3, height, width],
        image: { field: 'image', channels: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
      },
      // A 1×1 PNG: the check runs the example, so it must decode. Put a real one of yours here.
      example: {
        image: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC',
      },
    };
  }
  const width = shape.length === 2 ? sizeOf(shape[1]) : undefined;
  if (!width)
    throw new CliError(
      `Input ${input.name} has shape [${shape.join(', ')}]: a manifest draft handles [batch, N] and [batch, 3, H, W].`,
    );
  const names = Array.from({ length: width }, (_, i) => `feature_${i}`);
  return {
    fields: names.map((name) => ({ name, type: 'number', description: `Column ${name} of ${input.name}.` })),
    input: {
      name: input.name,
      dtype: 'float32',
      shape: ['batch', width],
      features: names.map((field) => ({ field })),
    },
    example: Object.fromEntries(names.map((name) => [name, 0])),
  };
};

const outputDraft = (output: Metadata) => {
  const classes = output.shape?.length === 2 ? sizeOf(output.shape[1]) : undefined;
  if (output.type !== 'float32' || !classes)
    throw new CliError(
      `Output ${output.name} (${output.type} [${output.shape?.join(', ')}]) is not a [batch, K] float32 score: serve the model as tensors.`,
    );
  return {
    output: { name: output.name, dtype: 'float32', shape: ['batch', classes] },
    postprocess:
      classes === 1
        ? { type: 'binary', output: output.name, activation: 'sigmoid', labels: ['negative', 'positive'] }
        : {
            type: 'multiclass',
            output: output.name,
            activation: 'softmax',
            labels: Array.from({ length: classes }, (_, i) => `class_${i}`),
          },
  };
};

export const draftManifest = async (file: string, name?: string) => {
  // Loaded here, not at the top: only this command needs ONNX Runtime's native module.
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file).catch((error: Error) => {
    throw new CliError(`ONNX Runtime cannot open ${file}: ${error.message}`);
  });
  const [input, extraInput] = session.inputMetadata as readonly Metadata[];
  const [output] = session.outputMetadata as readonly Metadata[];
  if (!input || extraInput || !output)
    throw new CliError('A manifest draft handles one input; serve a model with several as tensors.');
  const { fields, input: tensorInput, example } = inputDraft(input);
  const { output: tensorOutput, postprocess } = outputDraft(output);
  const draft = {
    name:
      name ??
      basename(file, '.onnx')
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-'),
    version: '1',
    description: 'Describe what the model does.',
    file: basename(file),
    fields,
    inputs: [tensorInput],
    outputs: [tensorOutput],
    postprocess,
    example,
  };
  // The draft must at least be a manifest the registry takes.
  modelManifestSchema.parse(draft);
  return draft;
};
