import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { S3Error } from './errors';

/**
 * S3's additional checksums (the five the store verifies, keeps and answers). Newer SDKs know
 * more (SHA512, MD5, XXHASH*): a request naming one of those is taken without its checksum.
 */
export const checksumAlgorithms = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof checksumAlgorithms)[number];
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/** A checksum kept with an object: COMPOSITE values of a multipart object end in `-N`. */
export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
  value: string;
}

export const checksumHeader = (algorithm: ChecksumAlgorithm) => `x-amz-checksum-${algorithm.toLowerCase()}`;
export const checksumElement = (algorithm: ChecksumAlgorithm) => `Checksum${algorithm}`;

export const isChecksumAlgorithm = (text: string): text is ChecksumAlgorithm =>
  (checksumAlgorithms as readonly string[]).includes(text);

export const invalidRequest = (message: string) => new S3Error('InvalidRequest', 400, message);

export const badDigest = (algorithm: ChecksumAlgorithm) =>
  new S3Error('BadDigest', 400, `The ${algorithm} you specified did not match the calculated checksum.`);

/** An incremental digest; CRC32C and CRC64NVME come from the AWS SDK's own implementations. */
export interface Digest {
  update(chunk: Buffer): void;
  digest(): Promise<Buffer>;
}

class Crc32Digest implements Digest {
  private value = 0;
  update(chunk: Buffer) {
    this.value = crc32(chunk, this.value);
  }
  async digest() {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(this.value >>> 0);
    return bytes;
  }
}

export const newDigest = (algorithm: ChecksumAlgorithm): Digest => {
  if (algorithm === 'CRC32') return new Crc32Digest();
  if (algorithm === 'SHA1' || algorithm === 'SHA256') {
    const hash = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
    return { update: (chunk) => hash.update(chunk), digest: async () => hash.digest() };
  }
  const crc = algorithm === 'CRC32C' ? new Crc32c() : new Crc64Nvme();
  return { update: (chunk) => crc.update(chunk), digest: async () => Buffer.from(await crc.digest()) };
};

/** The checksum of one buffer, base64 as S3 writes it. */
export const checksumOf = async (algorithm: ChecksumAlgorithm, body: Buffer) => {
  const digest = newDigest(algorithm);
  digest.update(body);
  return (await digest.digest()).toString('base64');
};

/** S3's composite checksum: the checksum of the parts' raw checksums, then `-<parts>`. */
export const compositeChecksum = async (algorithm: ChecksumAlgorithm, partValues: string[]) =>
  `${await checksumOf(algorithm, Buffer.concat(partValues.map((value) => Buffer.from(value, 'base64'))))}-${partValues.length}`;

/** CreateMultipartUpload's algorithm and type, checked as S3 checks them. */
export const uploadChecksumOf = (
  algorithmText: string | undefined,
  typeText: string | undefined,
): { algorithm: ChecksumAlgorithm; type: ChecksumType } | undefined => {
  if (algorithmText === undefined) {
    if (typeText !== undefined)
      throw invalidRequest(
        'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
      );
    return undefined;
  }
  const algorithm = algorithmText.toUpperCase();
  if (!isChecksumAlgorithm(algorithm))
    throw invalidRequest(
      `Checksum algorithm provided is unsupported. Please try again with any of the valid types: [${checksumAlgorithms.join(', ')}]`,
    );
  const type = typeText?.toUpperCase() ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT')
    throw invalidRequest('Value for x-amz-checksum-type header is invalid.');
  if (type === 'FULL_OBJECT' && algorithm.startsWith('SHA'))
    throw invalidRequest(
      `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    );
  if (type === 'COMPOSITE' && algorithm === 'CRC64NVME')
    throw invalidRequest('The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
  return { algorithm, type };
};
