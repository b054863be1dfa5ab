export interface S3Location {
  bucket: string;
  key: string;
}

const s3UriPattern = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;

/** Parses `s3://bucket/key`; `undefined` when the string is not one. */
export const parseS3Uri = (uri: string): S3Location | undefined => {
  const match = s3UriPattern.exec(uri);
  if (!match) return undefined;
  const [, bucket, key] = match;
  if (!bucket || !key) return undefined;
  return { bucket, key };
};

export const toS3Uri = ({ bucket, key }: S3Location): string => `s3://${bucket}/${key}`;

/** Parses an `s3://` URI that the code itself wrote; anything else is a bug, not bad input. */
export const locationOf = (uri: string): S3Location => {
  const location = parseS3Uri(uri);
  if (!location) throw new Error(`Not an S3 URI: ${uri}`);
  return location;
};
