import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiKeys, useLocalStack } from '../support/local-stack';
import type { TestStack } from '../support/local-stack';
import { fileOf, pushModel, waitForAlias, waitForCheck } from '../support/model-registry';
import type { VersionView } from '../support/model-registry';

const modelsDir = join(__dirname, '../../models');
const churnOnnx = readFileSync(join(modelsDir, 'churn-risk/model.onnx'));
const churnManifest = JSON.parse(readFileSync(join(modelsDir, 'churn-risk/model.json'), 'utf8')) as Record<
  string,
  unknown
>;

const push = (
  local: TestStack,
  name: string,
  files: Record<string, Buffer>,
  extra: Record<string, unknown> = {},
) => pushModel(local, name, files, extra);

describe('the model registry on the local runtime', () => {
  const local = useLocalStack();

  it('registers the shipped examples as shared models every owner sees, checked and ready', async () => {
    for (const key of [apiKeys.alice, apiKeys.bob]) {
      const checked = await waitForCheck(local, 'churn-risk', '1', key);
      expect(checked).toMatchObject({ status: 'ready', error: null });
      expect(checked.signature?.inputs).toEqual([
        { name: 'features', datatype: 'FP32', shape: ['batch', 8] },
      ]);
    }
    const recognizer = await waitForCheck(local, 'text-recognition', '1');
    expect(recognizer.status).toBe('ready');
    const { json } = await local.api('/models/churn-risk', { key: apiKeys.bob });
    expect(json).toMatchObject({ name: 'churn-risk', shared: true, aliases: { latest: '1' } });
  });

  it('checks a new model with ONNX Runtime, makes it ready and points latest at it', async () => {
    const registered = await push(
      local,
      'my-churn',
      { 'model.onnx': churnOnnx },
      { manifest: churnManifest },
    );
    expect(registered).toMatchObject({ name: 'my-churn', version: '1', status: 'uploading' });

    const checked = await waitForCheck(local, 'my-churn', '1');
    await waitForAlias(local, 'my-churn', 'latest', '1');

    expect(checked).toMatchObject({ status: 'ready', error: null });
    const { json } = await local.api('/models/my-churn');
    expect(json).toMatchObject({ shared: false, aliases: { latest: '1' } });
    expect((json.versions as VersionView[]).map((v) => v.version)).toEqual(['1']);
  });

  it('keeps a model to its owner: another owner gets 404', async () => {
    await push(local, 'alices-model', { 'model.onnx': churnOnnx });
    await waitForCheck(local, 'alices-model', '1');

    const { status, json } = await local.api('/models/alices-model', { key: apiKeys.bob });

    expect(status).toBe(404);
    expect(json.error?.code).toBe('MODEL_NOT_FOUND');
  });

  it('answers a registration sent again as the first, and refuses other files under the same version', async () => {
    const files = [fileOf('model.onnx', churnOnnx)];
    const first = await local.api('/models/twice/versions', {
      method: 'POST',
      body: { version: 'a', files },
    });
    const again = await local.api('/models/twice/versions', {
      method: 'POST',
      body: { version: 'a', files },
    });
    const other = await local.api('/models/twice/versions', {
      method: 'POST',
      body: { version: 'a', files: [fileOf('model.onnx', Buffer.from('other bytes'))] },
    });

    expect([first.status, again.status, other.status]).toEqual([201, 200, 409]);
    expect(other.json.error?.code).toBe('MODEL_VERSION_EXISTS');
  });

  it("fails a file that is not ONNX with ONNX Runtime's own words, and a manifest that does not fit the graph", async () => {
    await push(local, 'not-onnx', { 'model.onnx': Buffer.from('this is not a protobuf') });
    const wrongManifest = {
      ...churnManifest,
      inputs: [{ ...(churnManifest.inputs as object[])[0], name: 'nope' }],
    };
    await push(local, 'wrong-manifest', { 'model.onnx': churnOnnx }, { manifest: wrongManifest });

    const notOnnx = await waitForCheck(local, 'not-onnx', '1');
    const mismatch = await waitForCheck(local, 'wrong-manifest', '1');

    expect(notOnnx.status).toBe('failed');
    expect(notOnnx.error?.code).toBe('INVALID_MODEL');
    expect(notOnnx.error?.message).toMatch(/protobuf|parse|load/i);
    expect(mismatch).toMatchObject({ status: 'failed', error: { code: 'MANIFEST_MISMATCH' } });
    expect(mismatch.error?.message).toContain('input nope is not in the graph');
  });

  it('fails a version whose uploaded bytes are not the ones registered', async () => {
    const declared = [fileOf('model.onnx', churnOnnx)];
    const tampered = Buffer.from(churnOnnx);
    tampered.writeUInt8((tampered.at(-1) ?? 0) ^ 0xff, tampered.length - 1);
    const created = await local.api('/models/tampered/versions', {
      method: 'POST',
      body: { files: declared },
    });
    const upload = (created.json as unknown as VersionView).uploads?.[0];
    // Without the checksum header S3 takes any bytes; the check does not.
    const { 'x-amz-checksum-sha256': _checksum, ...headers } = upload?.headers ?? {};
    await fetch(upload?.url ?? '', { method: 'PUT', headers, body: tampered });
    await local.api('/models/tampered/versions/1/finish', { method: 'POST', body: {} });

    const checked = await waitForCheck(local, 'tampered', '1');

    expect(checked).toMatchObject({ status: 'failed', error: { code: 'CHECKSUM_MISMATCH' } });
  });

  it('refuses to finish a version whose files are not all uploaded, and names what is missing', async () => {
    await local.api('/models/half/versions', {
      method: 'POST',
      body: { files: [fileOf('model.onnx', churnOnnx)] },
    });

    const { status, json } = await local.api('/models/half/versions/1/finish', { method: 'POST', body: {} });

    expect(status).toBe(409);
    expect(json.error).toMatchObject({ code: 'MODEL_UPLOAD_INCOMPLETE' });
    expect(json.error?.message).toContain('model.onnx (missing');
  });

  it('moves an alias to a ready version, refuses a version that is not ready, and refuses to delete an aliased one', async () => {
    await push(local, 'aliased', { 'model.onnx': churnOnnx }, { version: 'v1' });
    await waitForCheck(local, 'aliased', 'v1');
    await push(local, 'aliased', { 'model.onnx': Buffer.from('broken') }, { version: 'v2' });
    await waitForCheck(local, 'aliased', 'v2');

    const prod = await local.api('/models/aliased/aliases/prod', { method: 'PUT', body: { version: 'v1' } });
    const broken = await local.api('/models/aliased/aliases/prod', {
      method: 'PUT',
      body: { version: 'v2' },
    });
    const deleteAliased = await local.api('/models/aliased/versions/v1', { method: 'DELETE' });
    const deleteFailed = await local.api('/models/aliased/versions/v2', { method: 'DELETE' });

    expect(prod.status).toBe(200);
    expect(broken.json.error?.code).toBe('MODEL_NOT_READY');
    expect(deleteAliased.json.error?.code).toBe('MODEL_VERSION_IN_USE');
    expect(deleteFailed.status).toBe(200);
    const { json } = await local.api('/models/aliased');
    expect((json.versions as VersionView[]).map((v) => v.version)).toEqual(['v1']);
    expect(json.aliases).toEqual({ latest: 'v1', prod: 'v1' });
  });

  it.each([
    ['a name S3 would choke on', '/models/Bad..Name/versions', { files: [fileOf('model.onnx', churnOnnx)] }],
    [
      'a version that is too long',
      '/models/ok/versions',
      { version: 'v'.repeat(65), files: [fileOf('model.onnx', churnOnnx)] },
    ],
    [
      'a file name that climbs out',
      '/models/ok/versions',
      { files: [{ ...fileOf('model.onnx', churnOnnx), name: '../x.onnx' }] },
    ],
    [
      'a checksum that is not SHA-256',
      '/models/ok/versions',
      { files: [{ ...fileOf('model.onnx', churnOnnx), sha256: 'abc' }] },
    ],
    [
      'a manifest that is not an object',
      '/models/ok/versions',
      { files: [fileOf('model.onnx', churnOnnx)], manifest: 'x' },
    ],
    ['no ONNX file', '/models/ok/versions', { files: [fileOf('weights.bin', churnOnnx)] }],
  ])('answers 400 with a code for %s', async (_case, path, body) => {
    const { status, json } = await local.api(path, { method: 'POST', body });

    expect(status).toBe(400);
    expect(json.error?.code).toMatch(/^[A-Z_]+$/);
  });
});
