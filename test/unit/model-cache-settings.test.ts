import { resolve } from 'node:path';
import { modelCacheSettings } from '../../gpu-container/src/model-cache-settings';

describe('modelCacheSettings', () => {
  it('keeps the cache in the folder the job definition mounts, up to 50 GiB, when nothing is set', () => {
    expect(modelCacheSettings({})).toEqual({ dir: '/var/cache/longtail/models', maxBytes: 50 * 2 ** 30 });
  });

  it('takes the folder and the cap in GiB from the environment, the folder made absolute', () => {
    const settings = modelCacheSettings({
      LONGTAIL_MODEL_CACHE_DIR: '.data/model-cache',
      LONGTAIL_MODEL_CACHE_MAX_GB: '0.5',
    });

    expect(settings).toEqual({ dir: resolve('.data/model-cache'), maxBytes: 2 ** 29 });
  });

  it.each(['0', '-1', 'lots'])('names the variable when the cap is %p', (cap) => {
    expect(() => modelCacheSettings({ LONGTAIL_MODEL_CACHE_MAX_GB: cap })).toThrow(
      /LONGTAIL_MODEL_CACHE_MAX_GB/,
    );
  });

  it('names the variable when the folder is empty', () => {
    expect(() => modelCacheSettings({ LONGTAIL_MODEL_CACHE_DIR: '' })).toThrow(/LONGTAIL_MODEL_CACHE_DIR/);
  });
});
