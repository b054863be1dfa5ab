import { checksumOf, compositeChecksum, newDigest, uploadChecksumOf } from '../../local/s3/checksums';
import type { ChecksumAlgorithm } from '../../local/s3/checksums';
import { decodeMimeWords, encodeMimeWord } from '../../local/s3/http';

const hex = (base64: string) => Buffer.from(base64, 'base64').toString('hex');

describe('the local S3 checksums', () => {
  // The catalogued check values: each algorithm over the ASCII bytes "123456789".
  it.each<[ChecksumAlgorithm, string]>([
    ['CRC32', 'cbf43926'],
    ['CRC32C', 'e3069283'],
    ['CRC64NVME', 'ae8b14860a799888'],
    ['SHA1', 'f7c3bc1d808e04732adf679965ccc34ca7ae3441'],
    ['SHA256', '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225'],
  ])('computes %s as catalogued', async (algorithm, check) => {
    expect(hex(await checksumOf(algorithm, Buffer.from('123456789')))).toBe(check);
  });

  it.each<ChecksumAlgorithm>(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'])(
    'gives %s the same value fed in pieces as whole',
    async (algorithm) => {
      const body = Buffer.from(Array.from({ length: 100_003 }, (_, i) => (i * 31) % 251));
      const digest = newDigest(algorithm);
      for (let at = 0; at < body.length; at += 4093) digest.update(body.subarray(at, at + 4093));
      expect((await digest.digest()).toString('base64')).toBe(await checksumOf(algorithm, body));
    },
  );

  it("builds S3's composite checksum of parts (the values s3-tests expects)", async () => {
    // Three 5 MiB parts of 'A', 'B' and 'C' (ceph/s3-tests test_multipart_use_cksum_helper_*).
    const parts = ['A', 'B', 'C'].map((fill) => Buffer.alloc(5 * 1024 * 1024, fill));
    const sha256 = await Promise.all(parts.map((part) => checksumOf('SHA256', part)));
    expect(sha256).toEqual([
      '275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI=',
      'mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM=',
      'Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow=',
    ]);
    expect(await compositeChecksum('SHA256', sha256)).toBe('uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3');
    expect(await checksumOf('CRC64NVME', Buffer.concat(parts))).toBe('i+6LR0y3eFo=');
  });

  it('takes a multipart checksum algorithm and type as S3 does', () => {
    expect(uploadChecksumOf(undefined, undefined)).toBeUndefined();
    expect(uploadChecksumOf('sha256', undefined)).toEqual({ algorithm: 'SHA256', type: 'COMPOSITE' });
    expect(uploadChecksumOf('CRC64NVME', undefined)).toEqual({ algorithm: 'CRC64NVME', type: 'FULL_OBJECT' });
    expect(uploadChecksumOf('CRC32', 'FULL_OBJECT')).toEqual({ algorithm: 'CRC32', type: 'FULL_OBJECT' });
    expect(() => uploadChecksumOf('SHA1', 'FULL_OBJECT')).toThrow('cannot be used with the sha1');
    expect(() => uploadChecksumOf('CRC64NVME', 'COMPOSITE')).toThrow('cannot be used with the crc64nvme');
    expect(() => uploadChecksumOf('MD4', undefined)).toThrow('Checksum algorithm provided is unsupported');
    expect(() => uploadChecksumOf(undefined, 'COMPOSITE')).toThrow('x-amz-checksum-algorithm');
  });
});

describe('the local S3 non-ASCII metadata', () => {
  it('answers non-ASCII values as an RFC 2047 encoded word, ASCII ones as they are', () => {
    expect(encodeMimeWord('plain value')).toBe('plain value');
    expect(encodeMimeWord('Hello Worldé')).toBe(
      `=?UTF-8?B?${Buffer.from('Hello Worldé').toString('base64')}?=`,
    );
  });

  it('decodes encoded words (B and Q, UTF-8 and Latin-1) before storing; leaves other text', () => {
    expect(decodeMimeWords('=?UTF-8?B?5Lit5paH?=')).toBe('中文');
    expect(decodeMimeWords('=?utf-8?Q?caf=C3=A9_au_lait?=')).toBe('café au lait');
    expect(decodeMimeWords('=?ISO-8859-1?Q?caf=E9?= =?UTF-8?B?5Lit?=')).toBe('café中');
    expect(decodeMimeWords('=?KOI8-R?B?4+k=?=')).toBe('=?KOI8-R?B?4+k=?=');
    expect(decodeMimeWords('a = b ? c')).toBe('a = b ? c');
  });

  it('round-trips any value through the encoding', () => {
    for (const value of ['中文 text', 'Grüße', 'emoji 🎉', '=?not a word'])
      expect(decodeMimeWords(encodeMimeWord(value))).toBe(value);
  });
});
