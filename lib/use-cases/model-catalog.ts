import { defaultAlias, modelAliasSchema, parseModelRef, sharedModelOwner } from '../domain/model-version';
import type { ModelAlias, ModelVersion } from '../domain/model-version';
import { Conflict, InvalidInput, NotFound } from '../errors';
import type { JobStore } from '../ports/job-store';
import type { ModelArtifacts, ModelCatalog, ModelRegistry } from '../ports/model-registry';
import { parseOrThrow } from '../validation';
import { intEnv } from '../config';
import { modelSignatureSchema, oipMetadataOf } from '../models/signature';
import { modelNameOrThrow } from './register-model';

/** What looking models up reads of the registry. */
type RegistryReader = Pick<
  ModelRegistry,
  'getAlias' | 'listAliases' | 'listVersions' | 'listByOwner' | 'getVersion'
>;

/** The owners whose models a caller sees, in the order a name is looked up: its own first. */
const ownersSeenBy = (ownerId: string) =>
  ownerId === sharedModelOwner ? [ownerId] : [ownerId, sharedModelOwner];

export interface ModelSummary {
  name: string;
  ownerId: string;
  shared: boolean;
  versions: ModelVersion[];
  aliases: ModelAlias[];
}

/** Every model the caller sees (its own, and the shared examples it has no model of the same name for). */
export const listVisibleModels = async (
  ownerId: string,
  registry: RegistryReader,
): Promise<ModelSummary[]> => {
  const byName = new Map<string, ModelSummary>();
  for (const owner of ownersSeenBy(ownerId)) {
    for (const version of await registry.listByOwner(owner)) {
      const key = version.name;
      const summary = byName.get(key);
      if (summary && summary.ownerId !== owner) continue;
      if (summary) summary.versions.push(version);
      else
        byName.set(key, {
          name: key,
          ownerId: owner,
          shared: owner === sharedModelOwner,
          versions: [version],
          aliases: [],
        });
    }
  }
  const models = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const model of models) {
    model.versions.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    model.aliases = await registry.listAliases(model.ownerId, model.name);
  }
  return models;
};

/** One model the caller sees, with its versions and aliases; 404 when it sees none of that name. */
export const getVisibleModel = async (ownerId: string, rawName: string, registry: ModelRegistry) => {
  const name = modelNameOrThrow(rawName);
  for (const owner of ownersSeenBy(ownerId)) {
    const versions = await registry.listVersions(owner, name);
    if (versions.length > 0) {
      return {
        name,
        ownerId: owner,
        shared: owner === sharedModelOwner,
        versions,
        aliases: await registry.listAliases(owner, name),
      } satisfies ModelSummary;
    }
  }
  throw new NotFound('MODEL_NOT_FOUND', `There is no model ${name}.`);
};

/**
 * One version of a model the caller sees, read by its key (a status poll costs one read). The
 * caller's own model of that name hides a shared one, as everywhere else.
 */
export const getVisibleVersion = async (
  ownerId: string,
  rawName: string,
  version: string,
  registry: RegistryReader,
): Promise<ModelVersion> => {
  const name = modelNameOrThrow(rawName);
  for (const owner of ownersSeenBy(ownerId)) {
    const found = await registry.getVersion(owner, name, version);
    if (found) return found;
    if ((await registry.listVersions(owner, name)).length > 0) break;
  }
  throw new NotFound('MODEL_NOT_FOUND', `There is no model version ${name}:${version.slice(0, 64)}.`);
};

/**
 * What a job's `model` names (`name`, `name:version`, `name@alias`), pinned to one version. Only
 * a `ready` version runs: one still checking is 409 MODEL_NOT_READY, a failed one says why.
 */
export const resolveModel = async (
  ownerId: string,
  ref: string,
  registry: RegistryReader,
): Promise<ModelVersion> => {
  const parsed = parseModelRef(ref);
  for (const owner of ownersSeenBy(ownerId)) {
    let version: string | undefined;
    if ('version' in parsed) version = parsed.version;
    else {
      const alias = await registry.getAlias(owner, parsed.name, parsed.alias);
      if (!alias) {
        const versions = parsed.alias === defaultAlias ? await registry.listVersions(owner, parsed.name) : [];
        if (versions.length === 0) continue;
        // A first version's check records it ready just before it points latest at it.
        const newestReady = versions.filter((v) => v.status === 'ready').at(-1);
        if (newestReady) return newestReady;
        throw new Conflict('MODEL_NOT_READY', `Model ${parsed.name} has no ready version yet.`);
      }
      version = alias.version;
    }
    const found = await registry.getVersion(owner, parsed.name, version);
    if (!found) continue;
    if (found.status === 'ready') return found;
    throw new Conflict(
      'MODEL_NOT_READY',
      found.status === 'failed'
        ? `${parsed.name}:${found.version} failed its check: ${found.error?.message ?? 'no reason recorded'}`
        : `${parsed.name}:${found.version} is ${found.status}; it can run once its check has passed.`,
      { status: found.status },
    );
  }
  const available = (await listVisibleModels(ownerId, registry)).map((model) => model.name);
  throw new InvalidInput(
    'UNKNOWN_MODEL',
    `There is no model "${ref.slice(0, 200)}". GET /models lists what you can run.`,
    { available },
  );
};

/** `PUT /models/{name}/aliases/{alias}`: points an alias at a ready version of the caller's own model. */
export const setModelAlias = async (
  ownerId: string,
  rawName: string,
  rawAlias: string,
  version: unknown,
  deps: { registry: ModelRegistry; now?: () => Date },
): Promise<ModelAlias> => {
  const name = modelNameOrThrow(rawName);
  const alias = parseOrThrow(modelAliasSchema, rawAlias, 'alias');
  if (typeof version !== 'string')
    throw new InvalidInput('INVALID_REQUEST', 'Send { "version": "<version>" }.');
  const target = await deps.registry.getVersion(ownerId, name, version);
  if (!target) throw new NotFound('MODEL_NOT_FOUND', `There is no model version ${name}:${version}.`);
  if (target.status !== 'ready') {
    throw new Conflict(
      'MODEL_NOT_READY',
      `${name}:${version} is ${target.status}; an alias points only at a ready version.`,
    );
  }
  const record: ModelAlias = {
    ownerId,
    name,
    alias,
    version,
    updatedAt: (deps.now ?? (() => new Date()))().toISOString(),
  };
  await deps.registry.putAlias(record);
  return record;
};

/**
 * `DELETE /models/{name}/versions/{version}`: refused while an alias points at it or a pending
 * or running job uses it; its files go with it.
 */
export const deleteModelVersion = async (
  ownerId: string,
  rawName: string,
  version: string,
  deps: { registry: ModelRegistry; artifacts: ModelArtifacts; jobs: Pick<JobStore, 'listActive'> },
) => {
  const name = modelNameOrThrow(rawName);
  const target = await deps.registry.getVersion(ownerId, name, version);
  if (!target) throw new NotFound('MODEL_NOT_FOUND', `There is no model version ${name}:${version}.`);
  const aliases = (await deps.registry.listAliases(ownerId, name)).filter((a) => a.version === version);
  if (aliases.length > 0) {
    throw new Conflict(
      'MODEL_VERSION_IN_USE',
      `${name}:${version} is what ${aliases.map((a) => `@${a.alias}`).join(', ')} points at; move the alias first.`,
    );
  }
  const now = new Date(Date.now() + 60_000).toISOString();
  for (const status of ['pending', 'running'] as const) {
    const users = (await deps.jobs.listActive(status, now)).filter(
      (job) => job.modelOwner === ownerId && job.model === name && job.modelVersion === version,
    );
    if (users.length > 0) {
      throw new Conflict(
        'MODEL_VERSION_IN_USE',
        `${users.length} ${status} job(s) use ${name}:${version}, e.g. ${users[0]?.jobId}; delete it once they end.`,
      );
    }
  }
  await deps.registry.deleteVersion(ownerId, name, version);
  await deps.artifacts.deleteAll(target.location);
};

/**
 * How long a Lambda trusts what an alias pointed at (LONGTAIL_MODEL_ALIAS_CACHE_SECONDS, default
 * 30): moves show within this; versions never change, so they are kept.
 */
const aliasCacheMs = () => intEnv('LONGTAIL_MODEL_ALIAS_CACHE_SECONDS', 30) * 1000;

/**
 * The registry as jobs use it, cached in the process: a ready version never changes, so it is
 * kept; what a name or alias resolves to is kept briefly, so that a moved alias shows soon.
 */
export class RegistryModelCatalog implements ModelCatalog {
  private readonly versions = new Map<string, ModelVersion>();
  private readonly refs = new Map<string, { version: ModelVersion; until: number }>();

  /** The registry as resolving reads it: aliases afresh, the versions they name from the cache once ready. */
  private readonly reader: RegistryReader;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly now: () => number = Date.now,
  ) {
    this.reader = {
      getAlias: (owner, name, alias) => registry.getAlias(owner, name, alias),
      listAliases: (owner, name) => registry.listAliases(owner, name),
      listVersions: (owner, name) => registry.listVersions(owner, name),
      listByOwner: (owner) => registry.listByOwner(owner),
      getVersion: (owner, name, version) => this.pinned({ ownerId: owner, name, version }),
    };
  }

  async resolve(ownerId: string, ref: string) {
    const key = `${ownerId}\u0000${ref}`;
    const cached = this.refs.get(key);
    if (cached && cached.until > this.now()) return cached.version;
    const version = await resolveModel(ownerId, ref, this.reader);
    this.refs.set(key, { version, until: this.now() + aliasCacheMs() });
    return version;
  }

  async pinned(ref: { ownerId: string; name: string; version: string }) {
    const key = `${ref.ownerId}/${ref.name}/${ref.version}`;
    const cached = this.versions.get(key);
    if (cached) return cached;
    const version = await this.registry.getVersion(ref.ownerId, ref.name, ref.version);
    if (version?.status === 'ready') this.versions.set(key, version);
    return version;
  }
}

/** Jobs made before the registry kept no owner for their model: they ran the shared examples. */
export const pinnedModelOf = (job: { modelOwner?: string; model: string; modelVersion: string }) => ({
  ownerId: job.modelOwner ?? sharedModelOwner,
  name: job.model,
  version: job.modelVersion,
});

/** The version an OIP path names, or the one `latest` points at (or the newest ready one). */
const versionAsked = async (
  ownerId: string,
  rawName: string,
  version: string | undefined,
  registry: ModelRegistry,
) => {
  const model = await getVisibleModel(ownerId, rawName, registry);
  const latest =
    model.aliases.find((alias) => alias.alias === defaultAlias)?.version ??
    model.versions.filter((v) => v.status === 'ready').at(-1)?.version;
  return { model, found: model.versions.find((v) => v.version === (version ?? latest)) };
};

/**
 * `GET /v2/models/{name}[/versions/{version}]`, the Open Inference Protocol's model metadata: the
 * ready versions, and the inputs and outputs of the one named (or of `latest`).
 */
export const oipModelMetadata = async (
  ownerId: string,
  rawName: string,
  version: string | undefined,
  registry: ModelRegistry,
) => {
  const { model, found } = await versionAsked(ownerId, rawName, version, registry);
  if (found?.status !== 'ready') {
    throw new NotFound(
      'MODEL_NOT_FOUND',
      `${model.name}${version ? `:${version.slice(0, 64)}` : ''} has no ready version${version ? '' : ' yet'}.`,
    );
  }
  return oipMetadataOf(
    model.name,
    model.versions.filter((v) => v.status === 'ready').map((v) => v.version),
    modelSignatureSchema.parse(found.signature),
  );
};

/** `GET /v2/models/{name}[/versions/{version}]/ready`: whether that version (or `latest`) can serve. */
export const oipModelReady = async (
  ownerId: string,
  rawName: string,
  version: string | undefined,
  registry: ModelRegistry,
) => {
  const { model, found } = await versionAsked(ownerId, rawName, version, registry);
  return { name: model.name, version: found?.version ?? null, ready: found?.status === 'ready' };
};
