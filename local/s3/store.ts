import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ClassicLevel } from 'classic-level';
import { readRange, writeBlob } from './blob-writer';
import type { WrittenBlob } from './blob-writer';
import { badDigest, compositeChecksum, invalidRequest } from './checksums';
import type { ChecksumAlgorithm, ChecksumType, StoredChecksum } from './checksums';
import { S3Error, invalidArgument, noSuchBucket, noSuchKey, noSuchUpload } from './errors';
import { listPage } from './listing';
import type { ListPage, ListRequest, ScanStart } from './listing';
import { migrateFlatLayout } from './migrate-flat-layout';

/** The headers S3 keeps with an object and answers on GET and HEAD. */
export const storedHeaderNames = [
  'content-type',
  'content-encoding',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
] as const;

export interface ObjectRecord {
  /** The body's file under `_blobs/` (a random name: an overwrite never touches a file being read). */
  blob: string;
  size: number;
  /** As S3 answers it, quoted: the body's MD5, or MD5 of the parts' MD5s and `-N` for multipart. */
  etag: string;
  lastModified: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  /** Part sizes of an object completed from a multipart upload. */
  parts?: number[];
  /** The additional checksum it was written with (answered when asked for). */
  checksum?: StoredChecksum;
  /** Of a multipart object with a checksum: each part's, for GET `?partNumber`. */
  partChecksums?: string[];
}

/** What a write learnt about its body's additional checksum. */
export interface BodyChecks {
  /** Checks what was written (length, Content-MD5, checksums); throws to refuse it. */
  check?: (written: WrittenBlob) => void;
  /** The checksums to compute while the body streams. */
  algorithms?: Iterable<ChecksumAlgorithm>;
  /** The checksum to keep with what was written, if any. */
  checksumOf?: (written: WrittenBlob) => { algorithm: ChecksumAlgorithm; value: string } | undefined;
}

export interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  /** CreateMultipartUpload's checksum algorithm and type: every part gets one, Complete checks them. */
  checksum?: { algorithm: ChecksumAlgorithm; type: ChecksumType };
}

export interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: string;
  file: string;
  /** The part's additional checksums (base64), kept in a sidecar file beside it. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** A part named in CompleteMultipartUpload, with the checksums the request gives for it. */
export interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** A conditional write (`If-Match` / `If-None-Match` on PUT and CompleteMultipartUpload). */
export interface WriteCondition {
  ifMatch?: string;
  ifNoneMatch?: string;
}

const etagListHas = (list: string, etag: string) =>
  list.split(',').some((tag) => tag.trim() === '*' || unquoted(tag) === unquoted(etag));

/** Checked against the key's object at commit, under its lock, as S3 does. */
const checkWriteCondition = (key: string, condition: WriteCondition, current: ObjectRecord | undefined) => {
  const failed = () =>
    new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
  if (condition.ifMatch !== undefined) {
    if (!current) throw noSuchKey(key);
    if (!etagListHas(condition.ifMatch, current.etag)) throw failed();
  }
  if (condition.ifNoneMatch !== undefined && current && etagListHas(condition.ifNoneMatch, current.etag))
    throw failed();
};

export type ObjectCreatedHow = 'Put' | 'Copy' | 'CompleteMultipartUpload';
export type ObjectCreatedListener = (event: {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  /** As in S3's `ObjectCreated:*` event names. */
  how: ObjectCreatedHow;
}) => void;

const mib = 1024 * 1024;
export const maxSinglePutBytes = 5 * 1024 * mib;
export const minPartBytes = 5 * mib;
const maxPartNumber = 10_000;
const bucketNamePattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const quoted = (hex: string) => `"${hex}"`;
const unquoted = (etag: string) => etag.trim().replace(/^"|"$/g, '');
const partFileName = (partNumber: number, md5Hex: string) =>
  `${String(partNumber).padStart(5, '0')}.${md5Hex}.part`;
const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Runs one task at a time per name: two writes of one key commit in the order they finish. */
class Locks {
  private tails = new Map<string, Promise<unknown>>();

  async with<T>(name: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(name) ?? Promise.resolve();
    const run = before.then(task, task);
    const tail = run.catch(() => undefined);
    this.tails.set(name, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}

/**
 * An S3 store on disk. Bodies are files, written to `_tmp/` while they stream in and renamed
 * into `_blobs/` only once whole; the object becomes visible with one atomic write to the
 * index (LevelDB, under `_index/`), which maps each bucket's keys, in S3's order, to their
 * record. Multipart parts are files under `_uploads/<id>/`, each renamed into place whole.
 * Nothing is loaded at start: the index is read per request. A process killed mid-write leaves
 * only files in `_tmp/` (cleared at the next start) or, between the rename and the index write,
 * a blob nothing refers to (swept after an unclean stop). Files are not fsynced: a killed
 * process loses nothing the kernel has, a power cut may.
 */
export class DiskS3Store {
  private readonly listeners: ObjectCreatedListener[] = [];
  private readonly locks = new Locks();
  private readonly tmpDir: string;
  private readonly blobsDir: string;
  private readonly uploadsDir: string;
  private readonly dirtyMarker: string;
  private sweeping: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly db: ClassicLevel<string, unknown>,
  ) {
    this.tmpDir = join(dir, '_tmp');
    this.blobsDir = join(dir, '_blobs');
    this.uploadsDir = join(dir, '_uploads');
    this.dirtyMarker = join(dir, '_open');
  }

  /** Opens (or creates) the store in `dir`, moving objects of the older flat layout into it. */
  static async open(dir: string): Promise<DiskS3Store> {
    await mkdir(dir, { recursive: true });
    const db = new ClassicLevel<string, unknown>(join(dir, '_index'), { valueEncoding: 'json' });
    await db.open();
    const store = new DiskS3Store(dir, db);
    await rm(store.tmpDir, { recursive: true, force: true });
    await Promise.all(
      [store.tmpDir, store.blobsDir, store.uploadsDir].map((d) => mkdir(d, { recursive: true })),
    );
    await migrateFlatLayout(dir, {
      createBucket: (name) => store.buckets.put(name, { created: new Date().toISOString() }),
      adopt: (bucket, key, file, record) => store.adoptBlob(bucket, key, file, record),
    });
    const uncleanStop = existsSync(store.dirtyMarker);
    await writeFile(store.dirtyMarker, String(process.pid));
    const startedAt = Date.now();
    store.sweeping = (
      uncleanStop ? store.sweepOrphans(startedAt) : store.sweepCompletedUploads(startedAt)
    ).catch(() => undefined);
    return store;
  }

  async close() {
    await this.sweeping;
    await this.db.close();
    await rm(this.dirtyMarker, { force: true });
  }

  onObjectCreated(listener: ObjectCreatedListener) {
    this.listeners.push(listener);
  }

  private get buckets() {
    return this.db.sublevel<string, { created: string }>('buckets', { valueEncoding: 'json' });
  }

  private objects(bucket: string) {
    return this.db.sublevel<string, ObjectRecord>(`o-${bucket}`, { valueEncoding: 'json' });
  }

  /** Which object each blob belongs to: what lets a sweep tell an orphan from a live body. */
  private get blobOwners() {
    return this.db.sublevel<string, string>('blobs', { valueEncoding: 'utf8' });
  }

  blobPath(blob: string) {
    return join(this.blobsDir, blob.slice(0, 2), blob);
  }

  // Buckets

  async listBuckets() {
    const all: { name: string; created: string }[] = [];
    for await (const [name, value] of this.buckets.iterator()) all.push({ name, created: value.created });
    return all;
  }

  async createBucket(name: string) {
    if (!bucketNamePattern.test(name) || name.includes('..'))
      throw new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: name });
    await this.locks.with(`bucket:${name}`, async () => {
      if (await this.buckets.get(name))
        throw new S3Error(
          'BucketAlreadyOwnedByYou',
          409,
          'Your previous request to create the named bucket succeeded and you already own it.',
          { BucketName: name },
        );
      await this.buckets.put(name, { created: new Date().toISOString() });
    });
  }

  async requireBucket(name: string) {
    if (!(await this.buckets.get(name))) throw noSuchBucket(name);
  }

  async deleteBucket(name: string) {
    await this.locks.with(`bucket:${name}`, async () => {
      await this.requireBucket(name);
      for await (const _key of this.objects(name).keys({ limit: 1 }))
        throw new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', {
          BucketName: name,
        });
      await this.buckets.del(name);
    });
  }

  // Objects

  async head(bucket: string, key: string): Promise<ObjectRecord> {
    const record = await this.objects(bucket).get(key);
    if (record) return record;
    await this.requireBucket(bucket);
    throw noSuchKey(key);
  }

  /**
   * Opens an object's body. An overwrite may replace the blob between reading the record and
   * opening the file: then the new record is read once more.
   */
  async open(bucket: string, key: string, range?: { start: number; end: number }) {
    for (let attempt = 0; ; attempt++) {
      const record = await this.head(bucket, key);
      const path = this.blobPath(record.blob);
      try {
        const body = readRange(path, range?.start, range?.end);
        await new Promise<void>((ready, fail) => {
          body.once('open', () => ready());
          body.once('error', fail);
        });
        return { record, body };
      } catch (error) {
        if (!isMissing(error) || attempt > 2) throw error;
      }
    }
  }

  /** Streams `body` to disk and commits it as `key`; `checks.check` may refuse what was written. */
  async put(
    bucket: string,
    key: string,
    body: Readable,
    options: { headers: Record<string, string>; metadata: Record<string, string> },
    checks: BodyChecks = {},
    condition: WriteCondition = {},
  ) {
    await this.requireBucket(bucket);
    const written = await writeBlob(this.tmpDir, [() => body], checks.algorithms);
    try {
      checks.check?.(written);
    } catch (error) {
      await rm(written.path, { force: true });
      throw error;
    }
    const record = this.recordOf(written, quoted(written.md5.toString('hex')), options);
    const checksum = checks.checksumOf?.(written);
    if (checksum) record.checksum = { ...checksum, type: 'FULL_OBJECT' };
    await this.commit(bucket, key, written.path, record, 'Put', condition);
    return { record, written };
  }

  async copy(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    replace?: { headers: Record<string, string>; metadata: Record<string, string> },
    checksumAlgorithm?: ChecksumAlgorithm,
  ) {
    await this.requireBucket(target.bucket);
    const { record: from, body } = await this.open(source.bucket, source.key);
    // A multipart source gets the whole body's MD5 as its copy's ETag, as in S3: hash it again.
    // Its checksum (the one asked for, else the source's algorithm) is the whole body's too.
    const algorithm = checksumAlgorithm ?? from.checksum?.algorithm;
    const written = await writeBlob(this.tmpDir, [() => body], algorithm ? [algorithm] : []);
    const etag = quoted(written.md5.toString('hex'));
    const record = this.recordOf(written, etag, replace ?? from);
    const value = algorithm && written.checksums[algorithm];
    if (algorithm && value) record.checksum = { algorithm, type: 'FULL_OBJECT', value };
    await this.commit(target.bucket, target.key, written.path, record, 'Copy');
    return record;
  }

  private recordOf(
    written: WrittenBlob,
    etag: string,
    options: { headers: Record<string, string>; metadata: Record<string, string> },
  ): ObjectRecord {
    return {
      blob: randomUUID(),
      size: written.size,
      etag,
      lastModified: new Date().toISOString(),
      headers: { 'content-type': 'binary/octet-stream', ...options.headers },
      metadata: options.metadata,
    };
  }

  /** Renames a whole body into place, then makes it the key's object with one index write. */
  private async commit(
    bucket: string,
    key: string,
    tmpPath: string,
    record: ObjectRecord,
    how: ObjectCreatedHow,
    condition: WriteCondition = {},
  ) {
    await this.locks.with(`object:${bucket}/${key}`, async () => {
      try {
        await this.requireBucket(bucket);
        checkWriteCondition(key, condition, await this.objects(bucket).get(key));
        await mkdir(join(this.blobsDir, record.blob.slice(0, 2)), { recursive: true });
        await rename(tmpPath, this.blobPath(record.blob));
      } catch (error) {
        await rm(tmpPath, { force: true });
        throw error;
      }
      const previous = await this.objects(bucket).get(key);
      await this.db.batch([
        { type: 'put', sublevel: this.objects(bucket), key, value: record },
        { type: 'put', sublevel: this.blobOwners, key: record.blob, value: `${bucket}/${key}` },
        ...(previous ? [{ type: 'del' as const, sublevel: this.blobOwners, key: previous.blob }] : []),
      ]);
      if (previous) await unlink(this.blobPath(previous.blob)).catch(() => undefined);
    });
    for (const listener of this.listeners)
      listener({ bucket, key, size: record.size, etag: record.etag, how });
  }

  /** Takes a body file of the flat layout (already on this disk) as `key`'s object, by rename. */
  private async adoptBlob(bucket: string, key: string, file: string, record: Omit<ObjectRecord, 'blob'>) {
    const blob = `m${createHash('sha256').update(`${bucket}/${key}`).digest('hex').slice(0, 31)}`;
    await mkdir(join(this.blobsDir, blob.slice(0, 2)), { recursive: true });
    if (existsSync(file)) await rename(file, this.blobPath(blob));
    const info = await stat(this.blobPath(blob)).catch(() => undefined);
    if (!info) return;
    await this.db.batch([
      { type: 'put', sublevel: this.objects(bucket), key, value: { ...record, size: info.size, blob } },
      { type: 'put', sublevel: this.blobOwners, key: blob, value: `${bucket}/${key}` },
    ]);
  }

  /** Deletes `key` (nothing to do when it does not exist, as in S3). */
  async delete(bucket: string, key: string) {
    await this.requireBucket(bucket);
    await this.locks.with(`object:${bucket}/${key}`, async () => {
      const previous = await this.objects(bucket).get(key);
      if (!previous) return;
      await this.db.batch([
        { type: 'del', sublevel: this.objects(bucket), key },
        { type: 'del', sublevel: this.blobOwners, key: previous.blob },
      ]);
      await unlink(this.blobPath(previous.blob)).catch(() => undefined);
    });
  }

  async list(bucket: string, request: ListRequest): Promise<ListPage<ObjectRecord>> {
    await this.requireBucket(bucket);
    const objects = this.objects(bucket);
    return listPage((start: ScanStart) => objects.iterator(start), request);
  }

  // Multipart uploads

  private uploadDir(uploadId: string) {
    if (!/^[0-9a-f]{32}$/.test(uploadId)) throw noSuchUpload(uploadId);
    return join(this.uploadsDir, uploadId);
  }

  async createUpload(
    bucket: string,
    key: string,
    options: {
      headers: Record<string, string>;
      metadata: Record<string, string>;
      checksum?: UploadRecord['checksum'];
    },
  ) {
    await this.requireBucket(bucket);
    const uploadId = randomBytes(16).toString('hex');
    const upload: UploadRecord = { uploadId, bucket, key, initiated: new Date().toISOString(), ...options };
    const dir = this.uploadDir(uploadId);
    await mkdir(dir);
    // The upload exists once upload.json does: written aside, then renamed.
    await writeFile(join(dir, 'upload.json.tmp'), JSON.stringify(upload));
    await rename(join(dir, 'upload.json.tmp'), join(dir, 'upload.json'));
    return upload;
  }

  async upload(uploadId: string, bucket?: string, key?: string): Promise<UploadRecord> {
    try {
      const upload = JSON.parse(
        await readFile(join(this.uploadDir(uploadId), 'upload.json'), 'utf8'),
      ) as UploadRecord;
      if ((bucket === undefined || upload.bucket === bucket) && (key === undefined || upload.key === key))
        return upload;
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    throw noSuchUpload(uploadId);
  }

  private checkPartNumber(partNumber: number) {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > maxPartNumber)
      throw invalidArgument(
        `Part number must be an integer between 1 and ${maxPartNumber}, inclusive`,
        'partNumber',
        String(partNumber),
      );
  }

  /**
   * Writes one part: `sources` streamed to a temporary file (with the upload's checksum and the
   * one the request names), renamed into the upload whole. Its checksums go to a sidecar written
   * first; under the upload's lock the rename makes the part the one of its number, so of two
   * uploads of one part number the one that commits last wins, whole.
   */
  async putPart(
    upload: UploadRecord,
    partNumber: number,
    sources: (() => Readable)[],
    checks: BodyChecks = {},
  ) {
    this.checkPartNumber(partNumber);
    const algorithms = new Set(checks.algorithms ?? []);
    if (upload.checksum) algorithms.add(upload.checksum.algorithm);
    const written = await writeBlob(this.tmpDir, sources, algorithms);
    try {
      checks.check?.(written);
      const md5Hex = written.md5.toString('hex');
      const dir = this.uploadDir(upload.uploadId);
      await this.locks.with(`upload:${upload.uploadId}`, async () => {
        await this.upload(upload.uploadId);
        const name = partFileName(partNumber, md5Hex);
        const sidecar = name.replace(/\.part$/, '.json');
        await writeFile(join(dir, `${sidecar}.tmp`), JSON.stringify({ checksums: written.checksums }));
        await rename(join(dir, `${sidecar}.tmp`), join(dir, sidecar));
        await rename(written.path, join(dir, name));
        // A part uploaded again replaces the one before.
        const prefix = `${String(partNumber).padStart(5, '0')}.`;
        for (const other of await readdir(dir))
          if (other.startsWith(prefix) && other !== name && other !== sidecar)
            await rm(join(dir, other), { force: true });
      });
      return { etag: quoted(md5Hex), written, lastModified: new Date() };
    } finally {
      await rm(written.path, { force: true });
    }
  }

  async listParts(uploadId: string): Promise<PartRecord[]> {
    await this.upload(uploadId);
    return this.locks.with(`upload:${uploadId}`, () => this.readParts(uploadId));
  }

  /** The upload's parts, one per number (the newest, should a crash have left two). */
  private async readParts(uploadId: string): Promise<PartRecord[]> {
    const dir = this.uploadDir(uploadId);
    const parts = new Map<number, PartRecord & { mtimeMs: number }>();
    for (const file of (await readdir(dir)).filter((name) => name.endsWith('.part')).sort()) {
      const [number, md5Hex] = file.split('.');
      const info = await stat(join(dir, file)).catch(() => undefined);
      if (!info) continue;
      const sidecar = await readFile(join(dir, file.replace(/\.part$/, '.json')), 'utf8').catch(
        () => undefined,
      );
      const partNumber = Number(number);
      const before = parts.get(partNumber);
      if (before && before.mtimeMs > info.mtimeMs) continue;
      parts.set(partNumber, {
        partNumber,
        etag: quoted(md5Hex ?? ''),
        size: info.size,
        lastModified: info.mtime.toISOString(),
        file: join(dir, file),
        checksums: sidecar ? (JSON.parse(sidecar) as Pick<PartRecord, 'checksums'>).checksums : {},
        mtimeMs: info.mtimeMs,
      });
    }
    return [...parts.values()]
      .sort((a, b) => a.partNumber - b.partNumber)
      .map(({ mtimeMs: _mtime, ...part }) => part);
  }

  /**
   * Joins the named parts into the object, in one pass over their files. With an upload
   * checksum, the object's is the parts' composite (`-N`) or, FULL_OBJECT, the whole body's,
   * computed in that same pass; `sent` is what the request says it must be.
   */
  async completeUpload(
    upload: UploadRecord,
    requested: RequestedPart[],
    condition: WriteCondition = {},
    sent: { value?: string; type?: string } = {},
  ) {
    return this.locks.with(`upload:${upload.uploadId}`, async () => {
      await this.upload(upload.uploadId);
      if (requested.length === 0)
        throw new S3Error(
          'MalformedXML',
          400,
          'The XML you provided was not well-formed or did not validate against our published schema',
        );
      // The list itself first: a part number twice, or out of order, is refused before any lookup.
      for (const [index, wanted] of requested.entries())
        if (index > 0 && wanted.partNumber <= (requested[index - 1]?.partNumber ?? 0))
          throw new S3Error(
            'InvalidPartOrder',
            400,
            'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
          );
      const stored = new Map((await this.readParts(upload.uploadId)).map((part) => [part.partNumber, part]));
      const invalidPart = (wanted: RequestedPart) =>
        new S3Error(
          'InvalidPart',
          400,
          "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
          { PartNumber: String(wanted.partNumber), ETag: wanted.etag },
        );
      const chosen: PartRecord[] = [];
      for (const wanted of requested) {
        const part = stored.get(wanted.partNumber);
        if (!part || unquoted(part.etag) !== unquoted(wanted.etag)) throw invalidPart(wanted);
        chosen.push(part);
      }
      for (const part of chosen.slice(0, -1))
        if (part.size < minPartBytes)
          throw new S3Error(
            'EntityTooSmall',
            400,
            'Your proposed upload is smaller than the minimum allowed object size.',
            {
              ProposedSize: String(part.size),
              MinSizeAllowed: String(minPartBytes),
              PartNumber: String(part.partNumber),
            },
          );
      const mode = upload.checksum;
      if (mode && sent.type !== undefined && sent.type.toUpperCase() !== mode.type)
        throw invalidRequest(
          `The upload was created using the ${mode.type} checksum mode. The complete request must use the same checksum mode.`,
        );
      // Whether `sent` matches what the store computed (a composite may be sent without `-N`).
      const matchesSent = (value: string) =>
        sent.value === undefined || sent.value === value || sent.value === value.replace(/-\d+$/, '');
      let composite: string | undefined;
      if (mode?.type === 'COMPOSITE') {
        const values = chosen.map((part) => part.checksums[mode.algorithm]);
        const missing = requested.find((_, index) => values[index] === undefined);
        if (missing) throw invalidPart(missing);
        composite = await compositeChecksum(mode.algorithm, values as string[]);
        if (!matchesSent(composite)) throw badDigest(mode.algorithm);
      }
      if (mode)
        for (const [index, wanted] of requested.entries()) {
          const given = wanted.checksums[mode.algorithm];
          if (given === undefined) {
            if (mode.type === 'FULL_OBJECT') continue;
            throw invalidRequest(
              `The upload was created using a ${mode.algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${wanted.partNumber} in the request.`,
            );
          }
          const part = chosen[index];
          if (part?.checksums[mode.algorithm] !== undefined && given !== part.checksums[mode.algorithm])
            throw invalidPart(wanted);
        }
      const written = await writeBlob(
        this.tmpDir,
        chosen.map((part) => () => readRange(part.file)),
        mode?.type === 'FULL_OBJECT' ? [mode.algorithm] : [],
      );
      const md5s = Buffer.concat(chosen.map((part) => Buffer.from(unquoted(part.etag), 'hex')));
      const etag = quoted(`${createHash('md5').update(md5s).digest('hex')}-${chosen.length}`);
      const record: ObjectRecord = {
        ...this.recordOf(written, etag, upload),
        parts: chosen.map((part) => part.size),
      };
      if (mode) {
        const value = composite ?? written.checksums[mode.algorithm] ?? '';
        if (!matchesSent(value)) {
          await rm(written.path, { force: true });
          throw badDigest(mode.algorithm);
        }
        record.checksum = { ...mode, value };
        record.partChecksums = chosen.map((part) => part.checksums[mode.algorithm] ?? '');
      }
      await this.commit(
        upload.bucket,
        upload.key,
        written.path,
        record,
        'CompleteMultipartUpload',
        condition,
      );
      // S3 answers a repeated Complete with the same result: keep what it made, drop the parts.
      const dir = this.uploadDir(upload.uploadId);
      await writeFile(
        join(dir, 'completed.json'),
        JSON.stringify({ bucket: upload.bucket, key: upload.key, etag, checksum: record.checksum }),
      );
      await rm(join(dir, 'upload.json'), { force: true });
      for (const name of await readdir(dir))
        if (name.endsWith('.part') || name.endsWith('.json')) {
          if (name !== 'completed.json') await rm(join(dir, name), { force: true });
        }
      return record;
    });
  }

  /** The ETag a completed upload made, while its object is still the one it made. */
  async completedUpload(uploadId: string, bucket: string, key: string) {
    const done = await readFile(join(this.uploadDir(uploadId), 'completed.json'), 'utf8').catch(
      () => undefined,
    );
    if (done === undefined) return undefined;
    const completed = JSON.parse(done) as {
      bucket: string;
      key: string;
      etag: string;
      checksum?: StoredChecksum;
    };
    if (completed.bucket !== bucket || completed.key !== key) return undefined;
    const current = await this.objects(bucket).get(key);
    return current?.etag === completed.etag
      ? { etag: completed.etag, checksum: completed.checksum }
      : undefined;
  }

  async abortUpload(uploadId: string) {
    await this.locks.with(`upload:${uploadId}`, async () => {
      await this.upload(uploadId);
      await rm(this.uploadDir(uploadId), { recursive: true, force: true });
    });
  }

  /** The bucket's uploads in progress, by key then start time. O(uploads in progress). */
  async listUploads(bucket: string): Promise<UploadRecord[]> {
    await this.requireBucket(bucket);
    const uploads: UploadRecord[] = [];
    for (const id of await readdir(this.uploadsDir)) {
      const upload = await this.upload(id).catch(() => undefined);
      if (upload?.bucket === bucket) uploads.push(upload);
    }
    return uploads.sort((a, b) =>
      a.key === b.key ? a.initiated.localeCompare(b.initiated) : a.key < b.key ? -1 : 1,
    );
  }

  /**
   * After an unclean stop: removes blobs no object owns and uploads that never got their
   * upload.json. Runs in the background (start does not wait), only on files older than this
   * start, so it never races a write of this run.
   */
  private async sweepOrphans(startedAt: number) {
    for (const shard of await readdir(this.blobsDir)) {
      for (const blob of await readdir(join(this.blobsDir, shard)).catch(() => [] as string[])) {
        if (await this.blobOwners.get(blob)) continue;
        const path = join(this.blobsDir, shard, blob);
        const info = await stat(path).catch(() => undefined);
        if (info && info.mtimeMs < startedAt) await unlink(path).catch(() => undefined);
      }
    }
    for (const id of await readdir(this.uploadsDir)) {
      const dir = join(this.uploadsDir, id);
      if (existsSync(join(dir, 'upload.json')) || existsSync(join(dir, 'completed.json'))) continue;
      const info = await stat(dir).catch(() => undefined);
      if (info && info.mtimeMs < startedAt) await rm(dir, { recursive: true, force: true });
    }
    await this.sweepCompletedUploads(startedAt);
  }

  /** Completed uploads are kept a day (a repeated Complete gets the same answer), then removed. */
  private async sweepCompletedUploads(startedAt: number) {
    for (const id of await readdir(this.uploadsDir)) {
      const marker = join(this.uploadsDir, id, 'completed.json');
      const info = await stat(marker).catch(() => undefined);
      if (info && info.mtimeMs < startedAt - 24 * 3600_000)
        await rm(join(this.uploadsDir, id), { recursive: true, force: true });
    }
  }
}
