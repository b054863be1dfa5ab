import { checksumOf, parseModelRef } from '../../lib/domain/model-version';
import type { ModelVersion } from '../../lib/domain/model-version';
import type { FileUpload, ModelArtifacts, ModelChecks } from '../../lib/ports/model-registry';
import {
  RegistryModelCatalog,
  getVisibleVersion,
  resolveModel,
  setModelAlias,
} from '../../lib/use-cases/model-catalog';
import { recordModelCheck } from '../../lib/use-cases/record-model-check';
import { finishModelVersion, registerModelVersion } from '../../lib/use-cases/register-model';
import type { RegisterModelDeps } from '../../lib/use-cases/register-model';
import { InMemoryModelRegistry } from '../fixtures/in-memory';
import { shippedModelRegistry } from '../fixtures/models';

const file = (name: string, digit = 'a', size = 10) => ({ name, sha256: digit.repeat(64), size });

/** Artifacts that remember what was "uploaded": sizes by location and file. */
class RecordingArtifacts implements ModelArtifacts {
  readonly present = new Map<string, Map<string, number>>();
  async uploadsFor(location: string, files: readonly { name: string }[]): Promise<FileUpload[]> {
    return files.map((f) => ({ name: f.name, url: `https://upload.test/${location}${f.name}` }));
  }
  async completeMultipart() {}
  async sizes(location: string) {
    return this.present.get(location) ?? new Map<string, number>();
  }
  async deleteAll(location: string) {
    this.present.delete(location);
  }
  upload(version: ModelVersion) {
    this.present.set(version.location, new Map(version.files.map((f) => [f.name, f.size])));
  }
}

class RecordingChecks implements ModelChecks {
  readonly requested: string[] = [];
  async request(ref: { ownerId: string; name: string; version: string }) {
    this.requested.push(`${ref.ownerId}/${ref.name}/${ref.version}`);
  }
}

describe('model references', () => {
  it.each([
    ['churn-risk', { name: 'churn-risk', alias: 'latest' }],
    ['churn-risk:3', { name: 'churn-risk', version: '3' }],
    ['churn-risk@prod', { name: 'churn-risk', alias: 'prod' }],
    ['churn-risk:v1.2_rc-1', { name: 'churn-risk', version: 'v1.2_rc-1' }],
  ])('reads %s', (ref, parsed) => {
    expect(parseModelRef(ref)).toEqual(parsed);
  });

  it.each(['', 'Churn', 'a:', 'a@', 'a@Prod', 'a:b:c', `a:${'v'.repeat(65)}`, '../x', 'a b'])(
    'refuses %j with UNKNOWN_MODEL',
    (ref) => {
      expect(() => parseModelRef(ref)).toThrow(expect.objectContaining({ code: 'UNKNOWN_MODEL' }));
    },
  );

  it('digests a version from its files, whatever their order', () => {
    const files = [file('model.onnx', 'a'), file('keys.txt', 'b')];

    expect(checksumOf(files)).toBe(checksumOf([...files].reverse()));
    expect(checksumOf(files)).not.toBe(checksumOf([file('model.onnx', 'a'), file('keys.txt', 'c')]));
  });
});

describe('registering a version', () => {
  let deps: RegisterModelDeps & { artifacts: RecordingArtifacts; checks: RecordingChecks };
  beforeEach(() => {
    deps = {
      registry: new InMemoryModelRegistry(),
      artifacts: new RecordingArtifacts(),
      checks: new RecordingChecks(),
      modelsBucket: 'models',
      now: () => new Date('2026-12-04T10:00:00.000Z'),
    };
  });

  it('numbers versions that name none, and hands back an upload link per file', async () => {
    const first = await registerModelVersion('alice', 'm', { files: [file('model.onnx')] }, deps);
    const second = await registerModelVersion('alice', 'm', { files: [file('model.onnx', 'b')] }, deps);

    expect([first.version.version, second.version.version]).toEqual(['1', '2']);
    expect(first.version).toMatchObject({
      status: 'uploading',
      location: 's3://models/alice/m/1/',
      onnxFile: 'model.onnx',
    });
    expect(first.uploads.map((u) => u.name)).toEqual(['model.onnx']);
  });

  it('answers the same registration again as a replay, with links only for files not yet uploaded', async () => {
    const request = { version: 'x', files: [file('model.onnx'), file('model.onnx.data', 'b')] };
    const { version } = await registerModelVersion('alice', 'm', request, deps);
    deps.artifacts.present.set(version.location, new Map([['model.onnx', 10]]));

    const again = await registerModelVersion('alice', 'm', request, deps);

    expect(again.replayed).toBe(true);
    expect(again.uploads.map((u) => u.name)).toEqual(['model.onnx.data']);
  });

  it('refuses other files under a version that exists: 409 MODEL_VERSION_EXISTS', async () => {
    await registerModelVersion('alice', 'm', { version: 'x', files: [file('model.onnx')] }, deps);

    await expect(
      registerModelVersion('alice', 'm', { version: 'x', files: [file('model.onnx', 'b')] }, deps),
    ).rejects.toMatchObject({ code: 'MODEL_VERSION_EXISTS' });
  });

  it('makes one version of two concurrent registrations of it, the loser answered as a replay', async () => {
    const request = { version: 'x', files: [file('model.onnx')] };

    const results = await Promise.all([
      registerModelVersion('alice', 'm', request, deps),
      registerModelVersion('alice', 'm', request, deps),
    ]);

    expect(results.map((r) => r.replayed).sort()).toEqual([false, true]);
    expect(await deps.registry.listVersions('alice', 'm')).toHaveLength(1);
  });

  it('refuses to finish before every file is there at its size, and checks once when it is', async () => {
    const { version } = await registerModelVersion('alice', 'm', { files: [file('model.onnx')] }, deps);

    await expect(finishModelVersion('alice', 'm', '1', {}, deps)).rejects.toMatchObject({
      code: 'MODEL_UPLOAD_INCOMPLETE',
    });
    deps.artifacts.upload(version);
    const finished = await finishModelVersion('alice', 'm', '1', {}, deps);
    await finishModelVersion('alice', 'm', '1', {}, deps);

    expect(finished.status).toBe('checking');
    expect(deps.checks.requested).toEqual(['alice/m/1']);
  });

  it('leaves a version it could not start checking uploading, so that finishing again starts it', async () => {
    const { version } = await registerModelVersion('alice', 'm', { files: [file('model.onnx')] }, deps);
    deps.artifacts.upload(version);
    const request = jest.spyOn(deps.checks, 'request').mockRejectedValueOnce(new Error('Batch is down'));

    await expect(finishModelVersion('alice', 'm', '1', {}, deps)).rejects.toThrow('Batch is down');
    expect((await deps.registry.getVersion('alice', 'm', '1'))?.status).toBe('uploading');
    await finishModelVersion('alice', 'm', '1', {}, deps);
    expect(request).toHaveBeenCalledTimes(2);
  });

  it('moves latest to the newest ready version, and the aliases asked for with it, once checked', async () => {
    for (const digit of ['a', 'b']) {
      const { version } = await registerModelVersion(
        'alice',
        'm',
        { files: [file('model.onnx', digit)], aliases: ['prod'] },
        { ...deps, now: () => new Date(`2026-12-04T10:0${digit === 'a' ? 1 : 2}:00.000Z`) },
      );
      deps.artifacts.upload(version);
      await finishModelVersion('alice', 'm', version.version, {}, deps);
    }
    const [v1, v2] = await deps.registry.listVersions('alice', 'm');

    await recordModelCheck(v2!, { ok: true, signature: {} }, deps);
    await recordModelCheck(v1!, { ok: true, signature: {} }, deps);

    expect((await deps.registry.getAlias('alice', 'm', 'latest'))?.version).toBe('2');
    // prod was asked for by both: the last to become ready holds it.
    expect((await deps.registry.getAlias('alice', 'm', 'prod'))?.version).toBe('1');
  });
});

describe("resolving a job's model", () => {
  it("finds the caller's own model before a shared one of the same name", async () => {
    const registry = shippedModelRegistry();
    const own = {
      ...(await registry.getVersion('longtail', 'churn-risk', '1'))!,
      ownerId: 'alice',
      version: '7',
    };
    registry.versions.set('alice/churn-risk#7', own);
    await registry.putAlias({
      ownerId: 'alice',
      name: 'churn-risk',
      alias: 'latest',
      version: '7',
      updatedAt: 'x',
    });

    expect((await resolveModel('alice', 'churn-risk', registry)).version).toBe('7');
    expect((await resolveModel('bob', 'churn-risk', registry)).ownerId).toBe('longtail');
  });

  it("reads one visible version by its key, the caller's own model hiding a shared one of that name", async () => {
    const registry = shippedModelRegistry();
    const base = (await registry.getVersion('longtail', 'churn-risk', '1'))!;

    expect((await getVisibleVersion('bob', 'churn-risk', '1', registry)).ownerId).toBe('longtail');
    registry.versions.set('alice/churn-risk#7', { ...base, ownerId: 'alice', version: '7' });
    await expect(getVisibleVersion('alice', 'churn-risk', '1', registry)).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
    });
    expect((await getVisibleVersion('alice', 'churn-risk', '7', registry)).ownerId).toBe('alice');
  });

  it('refuses a version that failed its check with its reason, and one still checking', async () => {
    const registry = shippedModelRegistry();
    const base = (await registry.getVersion('longtail', 'churn-risk', '1'))!;
    registry.versions.set('alice/m#1', {
      ...base,
      ownerId: 'alice',
      name: 'm',
      version: '1',
      status: 'failed',
      error: { code: 'INVALID_MODEL', message: 'not ONNX' },
    });
    registry.versions.set('alice/m#2', {
      ...base,
      ownerId: 'alice',
      name: 'm',
      version: '2',
      status: 'checking',
    });

    await expect(resolveModel('alice', 'm:1', registry)).rejects.toMatchObject({
      code: 'MODEL_NOT_READY',
      message: expect.stringContaining('not ONNX'),
    });
    await expect(resolveModel('alice', 'm:2', registry)).rejects.toMatchObject({ code: 'MODEL_NOT_READY' });
    await expect(resolveModel('alice', 'm', registry)).rejects.toMatchObject({ code: 'MODEL_NOT_READY' });
  });

  it('takes the newest ready version for latest while a first check has not yet pointed latest at it', async () => {
    const registry = new InMemoryModelRegistry();
    const base = (await shippedModelRegistry().getVersion('longtail', 'churn-risk', '1'))!;
    registry.versions.set('alice/m#1', { ...base, ownerId: 'alice', name: 'm', version: '1' });

    expect((await resolveModel('alice', 'm', registry)).version).toBe('1');
  });

  it("keeps what an alias pointed at for the cache's time only, and a version for good", async () => {
    const registry = shippedModelRegistry();
    let now = 0;
    const catalog = new RegistryModelCatalog(registry, () => now);
    const base = (await registry.getVersion('longtail', 'churn-risk', '1'))!;
    registry.versions.set('longtail/churn-risk#2', { ...base, version: '2' });

    expect((await catalog.resolve('alice', 'churn-risk')).version).toBe('1');
    await setModelAlias('longtail', 'churn-risk', 'latest', '2', { registry });
    now = 10_000;
    expect((await catalog.resolve('alice', 'churn-risk')).version).toBe('1');
    now = 31_000;
    expect((await catalog.resolve('alice', 'churn-risk')).version).toBe('2');
  });
});
