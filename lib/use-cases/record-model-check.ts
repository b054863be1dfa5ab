import { defaultAlias } from '../domain/model-version';
import type { ModelVersion } from '../domain/model-version';
import type { ModelRegistry } from '../ports/model-registry';

export type ModelCheckOutcome =
  { ok: true; signature: unknown } | { ok: false; error: { code: string; message: string } };

/**
 * The end of a version's check: `ready` with the graph's signature (then `latest` follows it,
 * if it is the newest ready version, and so do the aliases asked for at registration), or
 * `failed` with the reason. A version already decided keeps its word.
 */
export const recordModelCheck = async (
  version: ModelVersion,
  outcome: ModelCheckOutcome,
  deps: { registry: ModelRegistry; now?: () => Date },
) => {
  const checkedAt = (deps.now ?? (() => new Date()))().toISOString();
  const recorded = outcome.ok
    ? await deps.registry.updateStatus(version, ['checking'], {
        status: 'ready',
        signature: outcome.signature,
        checkedAt,
      })
    : await deps.registry.updateStatus(version, ['checking'], {
        status: 'failed',
        error: outcome.error,
        checkedAt,
      });
  if (!recorded || !outcome.ok) return recorded;
  const latest = await deps.registry.getAlias(version.ownerId, version.name, defaultAlias);
  const current = latest && (await deps.registry.getVersion(version.ownerId, version.name, latest.version));
  const aliases = [
    ...(!current || current.createdAt <= version.createdAt ? [defaultAlias] : []),
    ...(version.requestedAliases ?? []).filter((alias) => alias !== defaultAlias),
  ];
  for (const alias of aliases) {
    await deps.registry.putAlias({
      ownerId: version.ownerId,
      name: version.name,
      alias,
      version: version.version,
      updatedAt: checkedAt,
    });
  }
  return recorded;
};
