/**
 * Builds the "churn-risk" model: a synthetic telecom churn data set, a small MLP trained on it in
 * plain TypeScript, exported to ONNX, checked against onnxruntime, and described by model.json.
 *
 * Run with `npm run build:models` (or `npx tsx models/churn-risk/train.ts`). All randomness comes
 * from SEED and all arithmetic is sequential, so the same seed gives a byte-identical model.onnx on
 * every run (V8's Math functions are a portable fdlibm port, so other machines on the same Node
 * version agree too).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import * as prettier from 'prettier';
import { mulberry32, type Rand } from '../../lib/seeded-random';
import { modelManifestSchema, type ModelManifest, type RecordField } from '../../lib/models/manifest';

const SEED = 20240611;
const N_ROWS = 20_000;
const TEST_FRACTION = 0.2;
const HIDDEN = 16;
const EPOCHS = 40;
const BATCH_SIZE = 128;
const LEARNING_RATE = 0.005;
/** ORT computes in float32 while the reference pass runs in float64, so they agree only this closely. */
const ONNX_TOLERANCE = 1e-4;

const OUT_DIR = __dirname;
const MODEL_FILE = 'model.onnx';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

/** Box-Muller, cosine half only: wasting one uniform is simpler than caching the sine half. */
function normal(rand: Rand, mean = 0, sd = 1): number {
  const u = 1 - rand(); // (0, 1], so log() stays finite
  const v = rand();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Knuth's method: fine for the small rates used here. */
function poisson(rand: Rand, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k += 1;
    p *= rand();
  }
  return k;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Checked indexing: with noUncheckedIndexedAccess every read is `T | undefined`, and ours never are. */
function at(xs: ArrayLike<number>, i: number): number {
  const x = xs[i];
  if (x === undefined) throw new RangeError(`index ${i} out of range ${xs.length}`);
  return x;
}

function rowAt(rows: number[][], i: number): number[] {
  const row = rows[i];
  if (row === undefined) throw new RangeError(`row ${i} out of range ${rows.length}`);
  return row;
}

// ---------------------------------------------------------------------------------------------
// Record fields and the synthetic data set
// ---------------------------------------------------------------------------------------------

const CONTRACTS = ['month-to-month', 'one-year', 'two-year'] as const;
type Contract = (typeof CONTRACTS)[number];

interface ChurnRecord {
  tenure_months: number;
  monthly_charges: number;
  support_calls: number;
  contract: Contract;
  paperless_billing: boolean;
  senior_citizen: boolean;
}

/** The manifest's fields, in feature-vector order; `encode` below follows the same order. */
const FIELDS: RecordField[] = [
  {
    name: 'tenure_months',
    type: 'integer',
    description: 'Whole months the customer has been with the company.',
    minimum: 0,
    maximum: 72,
  },
  {
    name: 'monthly_charges',
    type: 'number',
    description: 'Current monthly bill in US dollars.',
    minimum: 18,
    maximum: 120,
  },
  {
    name: 'support_calls',
    type: 'integer',
    description: 'Calls to customer support in the last 12 months.',
    minimum: 0,
    maximum: 10,
  },
  { name: 'contract', type: 'category', description: 'Contract term.', values: [...CONTRACTS] },
  { name: 'paperless_billing', type: 'boolean', description: 'Whether the customer gets paperless bills.' },
  { name: 'senior_citizen', type: 'boolean', description: 'Whether the customer is 65 or older.' },
];
const N_FEATURES = 8;

/**
 * One customer. Longer contracts come with longer tenure, pricier plans generate more support
 * calls, and month-to-month customers are pushed towards paperless billing, so the features are
 * correlated the way real churn data is rather than independent.
 */
function sampleCustomer(rand: Rand): ChurnRecord {
  const c = rand();
  const contract: Contract = c < 0.55 ? 'month-to-month' : c < 0.8 ? 'one-year' : 'two-year';
  const senior = rand() < 0.16;

  // Month-to-month tenure is roughly exponential (most leave or upgrade early); fixed terms are bell-shaped.
  const rawTenure =
    contract === 'month-to-month'
      ? -16 * Math.log(1 - rand())
      : normal(rand, contract === 'one-year' ? 32 : 52, 15);
  const tenure = Math.round(clamp(rawTenure, 0, 72));

  const charges = Math.round(clamp(normal(rand, senior ? 74 : 68, 24), 18, 120) * 100) / 100;
  const callRate = 0.6 + 0.018 * (charges - 18) + (contract === 'month-to-month' ? 0.5 : 0);
  const supportCalls = Math.min(10, poisson(rand, callRate));
  const paperless = rand() < (contract === 'month-to-month' ? 0.7 : 0.45);

  return {
    tenure_months: tenure,
    monthly_charges: charges,
    support_calls: supportCalls,
    contract,
    paperless_billing: paperless,
    senior_citizen: senior,
  };
}

/**
 * The true churn log-odds. The tenure effect is logarithmic (the first months are the riskiest),
 * and support calls hurt more on short tenure, so an MLP has a little non-linearity to find.
 * The per-customer noise term stands in for everything the record does not capture.
 */
function churnLogit(r: ChurnRecord, rand: Rand): number {
  const contractEffect = { 'month-to-month': 1.1, 'one-year': -0.4, 'two-year': -1.6 }[r.contract];
  const newCustomer = r.tenure_months < 12 ? 1 : 0;
  return (
    -1.1 +
    contractEffect -
    0.75 * Math.log1p(r.tenure_months / 4) +
    0.03 * (r.monthly_charges - 68) +
    (0.3 + 0.25 * newCustomer) * r.support_calls +
    (r.paperless_billing ? 0.25 : 0) +
    (r.senior_citizen ? 0.3 : 0) +
    normal(rand, 0, 0.8)
  );
}

interface Dataset {
  records: ChurnRecord[];
  labels: number[];
}

function generateDataset(rand: Rand, n: number): Dataset {
  const records: ChurnRecord[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const record = sampleCustomer(rand);
    records.push(record);
    labels.push(rand() < sigmoid(churnLogit(record, rand)) ? 1 : 0);
  }
  return { records, labels };
}

/** Raw (unstandardized) features in manifest order; the ONNX graph does the scaling itself. */
function encode(r: ChurnRecord): number[] {
  return [
    r.tenure_months,
    r.monthly_charges,
    r.support_calls,
    ...CONTRACTS.map((c) => (r.contract === c ? 1 : 0)),
    r.paperless_billing ? 1 : 0,
    r.senior_citizen ? 1 : 0,
  ];
}

// ---------------------------------------------------------------------------------------------
// The model: standardize -> Linear(8, 16) -> ReLU -> Linear(16, 1)
// ---------------------------------------------------------------------------------------------

interface Scaler {
  mean: number[];
  std: number[];
}

interface Mlp {
  w1: number[]; // [N_FEATURES * HIDDEN], row-major as ONNX MatMul expects: w1[i * HIDDEN + j]
  b1: number[]; // [HIDDEN]
  w2: number[]; // [HIDDEN]
  b2: number; // scalar
}

/** Population mean and std per column, from the training rows only so the test split stays unseen. */
function fitScaler(rows: number[][]): Scaler {
  const column = (i: number): number[] => rows.map((row) => at(row, i));
  const mean: number[] = [];
  const std: number[] = [];
  for (let i = 0; i < N_FEATURES; i++) {
    const xs = column(i);
    const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, x) => a + (x - mu) ** 2, 0) / xs.length;
    mean.push(mu);
    // A constant column would divide by zero; 1 leaves it centred and harmless.
    std.push(variance > 1e-12 ? Math.sqrt(variance) : 1);
  }
  return { mean, std };
}

function standardize(row: number[], s: Scaler): number[] {
  return row.map((x, i) => (x - at(s.mean, i)) / at(s.std, i));
}

/** He initialization, because the hidden layer is ReLU. */
function initMlp(rand: Rand): Mlp {
  const scale = Math.sqrt(2 / N_FEATURES);
  return {
    w1: Array.from({ length: N_FEATURES * HIDDEN }, () => normal(rand, 0, scale)),
    b1: new Array<number>(HIDDEN).fill(0),
    w2: Array.from({ length: HIDDEN }, () => normal(rand, 0, Math.sqrt(1 / HIDDEN))),
    b2: 0,
  };
}

/** Forward pass on one standardized row; returns the hidden activations too, for backprop. */
function forward(m: Mlp, x: number[]): { hidden: number[]; logit: number } {
  const hidden = new Array<number>(HIDDEN);
  let logit = m.b2;
  for (let j = 0; j < HIDDEN; j++) {
    let h = at(m.b1, j);
    for (let i = 0; i < N_FEATURES; i++) h += at(x, i) * at(m.w1, i * HIDDEN + j);
    h = Math.max(0, h);
    hidden[j] = h;
    logit += h * at(m.w2, j);
  }
  return { hidden, logit };
}

/** Adam keeps one moment pair per parameter; the parameters are flattened into one vector for it. */
function flatten(m: Mlp): number[] {
  return [...m.w1, ...m.b1, ...m.w2, m.b2];
}

function unflatten(p: number[]): Mlp {
  const n1 = N_FEATURES * HIDDEN;
  return {
    w1: p.slice(0, n1),
    b1: p.slice(n1, n1 + HIDDEN),
    w2: p.slice(n1 + HIDDEN, n1 + 2 * HIDDEN),
    b2: at(p, n1 + 2 * HIDDEN),
  };
}

/** Gradient of the mean binary cross-entropy over a mini-batch, as a flat vector matching `flatten`. */
function batchGradient(m: Mlp, xs: number[][], ys: number[]): number[] {
  const n1 = N_FEATURES * HIDDEN;
  const grad = new Array<number>(n1 + 2 * HIDDEN + 1).fill(0);
  const scale = 1 / xs.length;
  xs.forEach((x, r) => {
    const { hidden, logit } = forward(m, x);
    const dLogit = (sigmoid(logit) - at(ys, r)) * scale; // d(BCE)/d(logit)
    for (let j = 0; j < HIDDEN; j++) {
      const h = at(hidden, j);
      grad[n1 + HIDDEN + j] = at(grad, n1 + HIDDEN + j) + dLogit * h;
      if (h <= 0) continue; // ReLU passes no gradient when inactive
      const dh = dLogit * at(m.w2, j);
      grad[n1 + j] = at(grad, n1 + j) + dh;
      for (let i = 0; i < N_FEATURES; i++) grad[i * HIDDEN + j] = at(grad, i * HIDDEN + j) + dh * at(x, i);
    }
    grad[n1 + 2 * HIDDEN] = at(grad, n1 + 2 * HIDDEN) + dLogit;
  });
  return grad;
}

/** Fisher-Yates with the seeded PRNG, so mini-batch order is reproducible. */
function shuffledIndices(n: number, rand: Rand): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [at(idx, j), at(idx, i)];
  }
  return idx;
}

/** Mini-batch Adam: converges in a few dozen epochs where plain SGD would need hundreds. */
function train(xs: number[][], ys: number[], rand: Rand): Mlp {
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const params = flatten(initMlp(rand));
  const m1 = new Array<number>(params.length).fill(0);
  const m2 = new Array<number>(params.length).fill(0);
  let step = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const order = shuffledIndices(xs.length, rand);
    for (let start = 0; start < order.length; start += BATCH_SIZE) {
      const batch = order.slice(start, start + BATCH_SIZE);
      const grad = batchGradient(
        unflatten(params),
        batch.map((i) => rowAt(xs, i)),
        batch.map((i) => at(ys, i)),
      );
      step += 1;
      for (let k = 0; k < params.length; k++) {
        const g = at(grad, k);
        m1[k] = beta1 * at(m1, k) + (1 - beta1) * g;
        m2[k] = beta2 * at(m2, k) + (1 - beta2) * g * g;
        const mHat = at(m1, k) / (1 - beta1 ** step);
        const vHat = at(m2, k) / (1 - beta2 ** step);
        params[k] = at(params, k) - (LEARNING_RATE * mHat) / (Math.sqrt(vHat) + eps);
      }
    }
  }
  return unflatten(params);
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

interface Metrics {
  accuracy: number;
  logLoss: number;
}

function metrics(logits: ArrayLike<number>, labels: number[]): Metrics {
  let correct = 0;
  let loss = 0;
  labels.forEach((y, i) => {
    const z = at(logits, i);
    if ((z > 0 ? 1 : 0) === y) correct += 1;
    // log(1 + e^-|z|) + max(z, 0) - y*z is BCE written so large |z| cannot overflow.
    loss += Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0) - y * z;
  });
  return { accuracy: correct / labels.length, logLoss: loss / labels.length };
}

const fmt = (m: Metrics): string =>
  `accuracy ${(m.accuracy * 100).toFixed(2)}%  log-loss ${m.logLoss.toFixed(4)}`;

// ---------------------------------------------------------------------------------------------
// ONNX export
// ---------------------------------------------------------------------------------------------

/** What actually ships: every parameter rounded to float32, exactly as stored in the ONNX file. */
interface ExportedParams {
  mean: Float32Array;
  std: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

function toExported(s: Scaler, m: Mlp): ExportedParams {
  return {
    mean: Float32Array.from(s.mean),
    std: Float32Array.from(s.std),
    w1: Float32Array.from(m.w1),
    b1: Float32Array.from(m.b1),
    w2: Float32Array.from(m.w2),
    b2: Float32Array.from([m.b2]),
  };
}

/** The reference forward pass on raw features, using the shipped float32 parameters. */
function referenceLogit(p: ExportedParams, raw: number[]): number {
  const x = raw.map((v, i) => (v - at(p.mean, i)) / at(p.std, i));
  return forward({ w1: [...p.w1], b1: [...p.b1], w2: [...p.w2], b2: at(p.b2, 0) }, x).logit;
}

/** Little-endian float32 bytes regardless of host byte order, as ONNX raw_data requires. */
function floatTensor(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes };
}

function floatValueInfo(name: string, dims: (number | 'batch')[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (d === 'batch' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function buildOnnx(p: ExportedParams): Uint8Array {
  const node = (opType: string, inputs: string[], output: string): onnx.INodeProto => ({
    name: output,
    opType,
    input: inputs,
    output: [output],
  });
  const graph: onnx.IGraphProto = {
    name: 'churn_risk',
    docString: 'Standardize raw features, then an 8-16-1 ReLU MLP; outputs the churn logit.',
    node: [
      node('Sub', ['features', 'feature_mean'], 'centred'),
      node('Div', ['centred', 'feature_std'], 'standardized'),
      node('MatMul', ['standardized', 'W1'], 'hidden_linear'),
      node('Add', ['hidden_linear', 'b1'], 'hidden_pre'),
      node('Relu', ['hidden_pre'], 'hidden'),
      node('MatMul', ['hidden', 'W2'], 'output_linear'),
      node('Add', ['output_linear', 'b2'], 'churn_logit'),
    ],
    initializer: [
      floatTensor('feature_mean', [N_FEATURES], p.mean),
      floatTensor('feature_std', [N_FEATURES], p.std),
      floatTensor('W1', [N_FEATURES, HIDDEN], p.w1),
      floatTensor('b1', [HIDDEN], p.b1),
      floatTensor('W2', [HIDDEN, 1], p.w2),
      floatTensor('b2', [1], p.b2),
    ],
    input: [floatValueInfo('features', ['batch', N_FEATURES])],
    output: [floatValueInfo('churn_logit', ['batch', 1])],
  };
  // No timestamps or host details anywhere, so the bytes depend on the seed alone.
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'longtail/models/churn-risk/train.ts',
    producerVersion: '1',
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Runs the written file through onnxruntime and fails the build if it disagrees with TypeScript. */
async function verifyWithOrt(file: string, rows: number[][], expected: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
  const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, N_FEATURES]);
  const result = await session.run({ features: input });
  await session.release();
  const output = result['churn_logit'];
  if (output === undefined) throw new Error('model.onnx has no churn_logit output');
  const logits = output.data as Float32Array;
  if (logits.length !== expected.length) {
    throw new Error(`ORT returned ${logits.length} logits for ${expected.length} rows`);
  }
  const maxDiff = expected.reduce((worst, e, i) => Math.max(worst, Math.abs(e - at(logits, i))), 0);
  console.log(`ONNX vs TypeScript: max |diff| ${maxDiff.toExponential(2)} over ${rows.length} rows`);
  if (!(maxDiff <= ONNX_TOLERANCE)) {
    throw new Error(`ONNX output differs from the TypeScript forward pass by ${maxDiff} > ${ONNX_TOLERANCE}`);
  }
  return logits;
}

// ---------------------------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------------------------

function buildManifest(): ModelManifest {
  const example: ChurnRecord = {
    tenure_months: 7,
    monthly_charges: 89.5,
    support_calls: 3,
    contract: 'month-to-month',
    paperless_billing: true,
    senior_citizen: false,
  };
  // Parsing here means a manifest that the API would reject never gets written.
  return modelManifestSchema.parse({
    name: 'churn-risk',
    version: '1',
    description:
      'Predicts whether a telecom customer will churn from tenure, charges, support calls, contract and billing details.',
    file: MODEL_FILE,
    fields: FIELDS,
    inputs: [
      {
        name: 'features',
        dtype: 'float32',
        shape: ['batch', N_FEATURES],
        features: FIELDS.map((f) => ({ field: f.name })),
      },
    ],
    outputs: [{ name: 'churn_logit', dtype: 'float32', shape: ['batch', 1] }],
    postprocess: {
      type: 'binary',
      output: 'churn_logit',
      activation: 'sigmoid',
      labels: ['stays', 'churns'],
      threshold: 0.5,
    },
    example,
  });
}

/**
 * 2-space JSON, then the repo's prettier settings on top, so `npm run format:check` stays green
 * on a freshly built manifest (prettier keeps short arrays such as shapes on one line).
 */
async function formatJson(file: string, value: unknown): Promise<string> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(JSON.stringify(value, null, 2), { ...options, filepath: file });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const rand = mulberry32(SEED);

  const data = generateDataset(rand, N_ROWS);
  const rows = data.records.map(encode);
  // Rows are i.i.d. draws, so a positional split is already a random one.
  const nTrain = Math.round(N_ROWS * (1 - TEST_FRACTION));
  const [trainX, testX] = [rows.slice(0, nTrain), rows.slice(nTrain)];
  const [trainY, testY] = [data.labels.slice(0, nTrain), data.labels.slice(nTrain)];
  const churnRate = data.labels.reduce((a, b) => a + b, 0) / N_ROWS;
  console.log(
    `data: ${N_ROWS} rows (${nTrain} train / ${N_ROWS - nTrain} test), churn rate ${(churnRate * 100).toFixed(1)}%`,
  );

  const scaler = fitScaler(trainX);
  const mlp = train(
    trainX.map((r) => standardize(r, scaler)),
    trainY,
    rand,
  );

  const shipped = toExported(scaler, mlp);
  const trainLogits = trainX.map((r) => referenceLogit(shipped, r));
  const testLogits = testX.map((r) => referenceLogit(shipped, r));
  console.log(`train: ${fmt(metrics(trainLogits, trainY))}`);
  console.log(`test:  ${fmt(metrics(testLogits, testY))}`);

  const modelPath = path.join(OUT_DIR, MODEL_FILE);
  const bytes = buildOnnx(shipped);
  writeFileSync(modelPath, bytes);
  console.log(`wrote ${path.relative(process.cwd(), modelPath)} (${bytes.length} bytes)`);

  const onnxLogits = await verifyWithOrt(modelPath, testX, testLogits);
  console.log(`test (onnxruntime): ${fmt(metrics(onnxLogits, testY))}`);

  const manifestPath = path.join(OUT_DIR, 'model.json');
  writeFileSync(manifestPath, await formatJson(manifestPath, buildManifest()));
  console.log(`wrote ${path.relative(process.cwd(), manifestPath)}`);
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
