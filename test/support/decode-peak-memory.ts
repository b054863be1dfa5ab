import { readFileSync } from 'node:fs';
import { decodeImage, writeImageTensor } from '../../gpu-container/src/images/images';
import type { ImageInput } from '../../lib/models/manifest';

/**
 * Run in a process of its own (test/unit/image-memory.test.ts): decodes the image file named by
 * argv[2] for text-orientation's [N, 3, 48, 192] input, with argv[3] as decodeWholePixels, and
 * prints the process's peak resident memory (bytes) before and after, as JSON. Before: with the
 * file read and one small image decoded, so that sharp, libvips and the scaling kernel are loaded.
 */
const input: ImageInput = {
  name: 'x',
  dtype: 'float32',
  shape: ['batch', 3, 48, 192],
  image: { field: 'image', channels: 'bgr', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
};
const target = { height: 48, width: 192 };
/**
 * The peak resident memory of this process's address space (Linux's VmHWM). Not getrusage's
 * maxRSS: Linux carries that over from the parent across fork and exec, so a child of a large
 * jest worker would start at the worker's peak.
 */
const peakRss = () => {
  const kilobytes = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (!kilobytes) throw new Error('no VmHWM in /proc/self/status');
  return Number(kilobytes) * 1024;
};

const main = async () => {
  const [file, decodeWholePixels, warmFile] = process.argv.slice(2) as [string, string, string];
  const limits = { maxPixels: 250_000_000, decodeWholePixels: Number(decodeWholePixels) };
  const tensor = new Float32Array(3 * 48 * 192);
  writeImageTensor(await decodeImage(readFileSync(warmFile), target, limits), input, tensor, 0);
  const bytes = readFileSync(file);
  const before = peakRss();
  const image = await decodeImage(bytes, target, limits);
  writeImageTensor(image, input, tensor, 0);
  process.stdout.write(
    JSON.stringify({ before, after: peakRss(), width: image.width, height: image.height }),
  );
};

void main();
