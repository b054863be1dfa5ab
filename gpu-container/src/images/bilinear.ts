import { bilinearWasmBase64 } from './bilinear-wasm';

/** 8-bit pixels, `channels` samples a pixel, row after row. */
export interface Pixels {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

/** Which sample of a pixel a plane scales, and its normalization: `value × gain + bias`. */
export interface PlaneSpec {
  sample: number;
  gain: number;
  bias: number;
}

interface Kernel {
  memory: WebAssembly.Memory;
  scalePlane: (...args: number[]) => void;
}

let kernel: Kernel | undefined;

/** Compiled once per thread: the module is a few hundred bytes. */
const kernelOf = (): Kernel => {
  kernel ??= new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(bilinearWasmBase64, 'base64')), {})
    .exports as unknown as Kernel;
  return kernel;
};

const pageBytes = 65_536;
const align8 = (bytes: number) => (bytes + 7) & ~7;

/**
 * The sampling table of one axis, written at `at` in the kernel's memory: bilinear with pixel
 * centres aligned (as OpenCV's INTER_LINEAR), for each target position the two source positions
 * times `stride` (the bytes between them) and the second one's weight.
 */
const writeSampling = (
  memory: ArrayBuffer,
  at: number,
  sourceSize: number,
  targetSize: number,
  stride: number,
) => {
  const low = new Int32Array(memory, at, targetSize);
  const high = new Int32Array(memory, at + 4 * targetSize, targetSize);
  const weight = new Float32Array(memory, at + 8 * targetSize, targetSize);
  const scale = sourceSize / targetSize;
  for (let i = 0; i < targetSize; i++) {
    const position = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), sourceSize - 1);
    const floor = Math.floor(position);
    low[i] = floor * stride;
    high[i] = Math.min(floor + 1, sourceSize - 1) * stride;
    weight[i] = position - floor;
  }
  return { low: at, high: at + 4 * targetSize, weight: at + 8 * targetSize };
};

/**
 * Scales `image` to `height` rows of `scaledWidth` values, once per plane spec, on the
 * WebAssembly kernel (bilinear.wat). Each plane is `height × paddedWidth` floats, zeros right of
 * `scaledWidth`. Returns a view of the kernel's memory, valid until the next call on this thread.
 * The memory grows to the largest image seen (bounded by the decoder's pixel limit) and stays.
 */
export const scalePlanes = (
  image: Pixels,
  height: number,
  scaledWidth: number,
  paddedWidth: number,
  planes: PlaneSpec[],
): Float32Array => {
  const { memory, scalePlane } = kernelOf();
  const tablesAt = align8(image.pixels.length);
  const rowsAt = tablesAt + 12 * (scaledWidth + height);
  const outputAt = align8(rowsAt + 8 * scaledWidth);
  const planeValues = height * paddedWidth;
  const needed = outputAt + 4 * planeValues * planes.length;
  if (needed > memory.buffer.byteLength)
    memory.grow(Math.ceil((needed - memory.buffer.byteLength) / pageBytes));
  const buffer = memory.buffer;
  new Uint8Array(buffer, 0, image.pixels.length).set(image.pixels);
  const xs = writeSampling(buffer, tablesAt, image.width, scaledWidth, image.channels);
  const ys = writeSampling(
    buffer,
    tablesAt + 12 * scaledWidth,
    image.height,
    height,
    image.width * image.channels,
  );
  for (const [i, plane] of planes.entries()) {
    scalePlane(
      0,
      plane.sample,
      xs.low,
      xs.high,
      xs.weight,
      scaledWidth,
      ys.low,
      ys.high,
      ys.weight,
      height,
      rowsAt,
      rowsAt + 4 * scaledWidth,
      outputAt + 4 * planeValues * i,
      paddedWidth,
      plane.gain,
      plane.bias,
    );
  }
  return new Float32Array(buffer, outputAt, planeValues * planes.length);
};
