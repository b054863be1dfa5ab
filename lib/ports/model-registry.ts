import type { ModelAlias, ModelStatus, ModelVersion } from '../domain/model-version';

/** Where model versions and aliases are recorded. Versions never change once ready or failed. */
export interface ModelRegistry {
  /** Records a new version; throws `Conflict` when the owner already has that version. */
  createVersion(version: ModelVersion): Promise<void>;
  getVersion(ownerId: string, name: string, version: string): Promise<ModelVersion | undefined>;
  /** Every version of one model, oldest first. */
  listVersions(ownerId: string, name: string): Promise<ModelVersion[]>;
  /** Every version of every model the owner registered. */
  listByOwner(ownerId: string): Promise<ModelVersion[]>;
  /** Moves a version between statuses if it is in one of `from`; false when it was not. */
  updateStatus(
    ref: { ownerId: string; name: string; version: string },
    from: readonly ModelStatus[],
    fields: Pick<ModelVersion, 'status'> & Partial<Pick<ModelVersion, 'signature' | 'error' | 'checkedAt'>>,
  ): Promise<boolean>;
  deleteVersion(ownerId: string, name: string, version: string): Promise<void>;
  /** The next free version number of a model (1, 2, …), for registrations that name none. */
  nextVersionNumber(ownerId: string, name: string): Promise<number>;
  getAlias(ownerId: string, name: string, alias: string): Promise<ModelAlias | undefined>;
  listAliases(ownerId: string, name: string): Promise<ModelAlias[]>;
  putAlias(alias: ModelAlias): Promise<void>;
}

/** Upload links for a version's files: the bytes go to storage directly, never through the API. */
export interface FileUpload {
  name: string;
  /** One PUT of the whole file, with its SHA-256 checked by S3. */
  url?: string;
  headers?: Record<string, string>;
  /** Or a multipart upload: PUT each part, then finish the version with the parts' ETags. */
  multipart?: { uploadId: string; partSize: number; parts: { partNumber: number; url: string }[] };
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface ModelArtifacts {
  /** Upload links for `files` under `location` (single PUTs up to a size, multipart above). */
  uploadsFor(
    location: string,
    files: readonly { name: string; sha256: string; size: number }[],
  ): Promise<FileUpload[]>;
  /** Finishes a file's multipart upload. */
  completeMultipart(location: string, file: string, uploadId: string, parts: CompletedPart[]): Promise<void>;
  /** Size of each file present under `location`. */
  sizes(location: string): Promise<Map<string, number>>;
  deleteAll(location: string): Promise<void>;
}

/** Starts the check of a version: ONNX Runtime loads it and runs one inference, somewhere it can. */
export interface ModelChecks {
  request(ref: { ownerId: string; name: string; version: string }): Promise<void>;
}

/** How jobs find their model: the ready version a reference names, and the version a job pinned. */
export interface ModelCatalog {
  /** `name`, `name:version` or `name@alias`, as the caller sees models; only a ready version. */
  resolve(ownerId: string, ref: string): Promise<ModelVersion>;
  /** The exact version a job pinned; undefined when it has been deleted since. */
  pinned(ref: { ownerId: string; name: string; version: string }): Promise<ModelVersion | undefined>;
}
