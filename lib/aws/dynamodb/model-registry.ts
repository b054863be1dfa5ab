import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../clients';
import { resources } from '../../config';
import type { ModelAlias, ModelStatus, ModelVersion } from '../../domain/model-version';
import { Conflict } from '../../errors';
import type { ModelRegistry } from '../../ports/model-registry';

/**
 * One item per version (`version#<v>`) and per alias (`alias#<a>`) under the model's key
 * (`<owner>/<name>`), and a counter for numbering versions. Version items also carry the
 * sparse `versionsByOwner` index keys, so that an owner's models list without a scan.
 */
export const modelsTableIndexes = { versionsByOwner: 'versionsByOwner' } as const;

const modelIdOf = (ownerId: string, name: string) => `${ownerId}/${name}`;
const versionEntry = (version: string) => `version#${version}`;
const aliasEntry = (alias: string) => `alias#${alias}`;

type StoredVersion = ModelVersion & {
  modelId: string;
  entry: string;
  versionOwner: string;
  versionKey: string;
};
type StoredAlias = ModelAlias & { modelId: string; entry: string };

const fromStoredVersion = (item: Record<string, unknown>): ModelVersion => {
  const {
    modelId: _m,
    entry: _e,
    versionOwner: _o,
    versionKey: _k,
    ...version
  } = item as unknown as StoredVersion;
  return version;
};
const fromStoredAlias = (item: Record<string, unknown>): ModelAlias => {
  const { modelId: _m, entry: _e, ...alias } = item as unknown as StoredAlias;
  return alias;
};

export class DynamoModelRegistry implements ModelRegistry {
  constructor(
    private readonly client: () => DynamoDBDocumentClient = dynamoDocumentClient.get,
    private readonly tableName: () => string = resources.modelsTable,
  ) {}

  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>) {
    const items: Record<string, unknown>[] = [];
    const pages = paginateQuery({ client: this.client() }, { TableName: this.tableName(), ...input });
    for await (const { Items = [] } of pages) items.push(...Items);
    return items;
  }

  async createVersion(version: ModelVersion) {
    const item: StoredVersion = {
      ...version,
      modelId: modelIdOf(version.ownerId, version.name),
      entry: versionEntry(version.version),
      versionOwner: version.ownerId,
      versionKey: `${version.name}#${version.createdAt}#${version.version}`,
    };
    try {
      await this.client().send(
        new PutCommand({
          TableName: this.tableName(),
          Item: item,
          ConditionExpression: 'attribute_not_exists(entry)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new Conflict(
          'MODEL_VERSION_EXISTS',
          `${version.name}:${version.version} is already registered.`,
        );
      }
      throw error;
    }
  }

  async getVersion(ownerId: string, name: string, version: string) {
    const { Item } = await this.client().send(
      new GetCommand({
        TableName: this.tableName(),
        Key: { modelId: modelIdOf(ownerId, name), entry: versionEntry(version) },
        ConsistentRead: true,
      }),
    );
    return Item ? fromStoredVersion(Item) : undefined;
  }

  async listVersions(ownerId: string, name: string) {
    const items = await this.queryAll({
      KeyConditionExpression: 'modelId = :model AND begins_with(entry, :prefix)',
      ExpressionAttributeValues: { ':model': modelIdOf(ownerId, name), ':prefix': 'version#' },
      ConsistentRead: true,
    });
    return items.map(fromStoredVersion).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async listByOwner(ownerId: string) {
    const items = await this.queryAll({
      IndexName: modelsTableIndexes.versionsByOwner,
      KeyConditionExpression: 'versionOwner = :owner',
      ExpressionAttributeValues: { ':owner': ownerId },
    });
    return items.map(fromStoredVersion);
  }

  async updateStatus(
    ref: { ownerId: string; name: string; version: string },
    from: readonly ModelStatus[],
    fields: Pick<ModelVersion, 'status'> & Partial<Pick<ModelVersion, 'signature' | 'error' | 'checkedAt'>>,
  ) {
    const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
    try {
      await this.client().send(
        new UpdateCommand({
          TableName: this.tableName(),
          Key: { modelId: modelIdOf(ref.ownerId, ref.name), entry: versionEntry(ref.version) },
          UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
          ConditionExpression: `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
          ExpressionAttributeNames: {
            '#status': 'status',
            ...Object.fromEntries(entries.map(([name], i) => [`#f${i}`, name])),
          },
          ExpressionAttributeValues: {
            ...Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value])),
            ...Object.fromEntries(from.map((status, i) => [`:from${i}`, status])),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async deleteVersion(ownerId: string, name: string, version: string) {
    await this.client().send(
      new DeleteCommand({
        TableName: this.tableName(),
        Key: { modelId: modelIdOf(ownerId, name), entry: versionEntry(version) },
      }),
    );
  }

  async nextVersionNumber(ownerId: string, name: string) {
    const { Attributes } = await this.client().send(
      new UpdateCommand({
        TableName: this.tableName(),
        Key: { modelId: modelIdOf(ownerId, name), entry: 'counter' },
        UpdateExpression: 'ADD versions :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.versions ?? 1);
  }

  async getAlias(ownerId: string, name: string, alias: string) {
    const { Item } = await this.client().send(
      new GetCommand({
        TableName: this.tableName(),
        Key: { modelId: modelIdOf(ownerId, name), entry: aliasEntry(alias) },
        ConsistentRead: true,
      }),
    );
    return Item ? fromStoredAlias(Item) : undefined;
  }

  async listAliases(ownerId: string, name: string) {
    const items = await this.queryAll({
      KeyConditionExpression: 'modelId = :model AND begins_with(entry, :prefix)',
      ExpressionAttributeValues: { ':model': modelIdOf(ownerId, name), ':prefix': 'alias#' },
      ConsistentRead: true,
    });
    return items.map(fromStoredAlias);
  }

  async putAlias(alias: ModelAlias) {
    const item: StoredAlias = {
      ...alias,
      modelId: modelIdOf(alias.ownerId, alias.name),
      entry: aliasEntry(alias.alias),
    };
    await this.client().send(new PutCommand({ TableName: this.tableName(), Item: item }));
  }
}
