import { InvalidInput } from '../errors';

/** The record formats batch transform reads: one JSON value per line, or RFC 4180 CSV rows. */
export type RecordFormat = 'jsonl' | 'csv';

const BY_CONTENT_TYPE: ReadonlyMap<string, RecordFormat> = new Map([
  ['text/csv', 'csv'],
  ['application/csv', 'csv'],
  ['application/jsonlines', 'jsonl'],
  ['application/x-ndjson', 'jsonl'],
  ['application/jsonl', 'jsonl'],
  ['application/json-lines', 'jsonl'],
]);

const BY_EXTENSION: ReadonlyMap<string, RecordFormat> = new Map([
  ['csv', 'csv'],
  ['jsonl', 'jsonl'],
  ['ndjson', 'jsonl'],
  ['json', 'jsonl'],
]);

const COMPRESSED_TYPES = new Set(['application/gzip', 'application/x-gzip']);

const SUPPORTED =
  `Supported content types: ${[...BY_CONTENT_TYPE.keys()].join(', ')}; ` +
  `supported extensions: ${[...BY_EXTENSION.keys()].map((ext) => `.${ext}`).join(', ')}.`;

/** `text/csv; charset=utf-8` → `text/csv`. */
const mediaTypeOf = (contentType: string | undefined) =>
  contentType?.split(';', 1)[0]?.trim().toLowerCase() ?? '';

/** The extension of the key's last path segment, lower-cased, without the dot ('' when none). */
const extensionOf = (key: string) => {
  const name = key.slice(key.lastIndexOf('/') + 1).toLowerCase();
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1) : '';
};

/**
 * The format of an input object: from its content type when that names one, else from the key's
 * extension. Generic types (`application/octet-stream`, `binary/octet-stream`, `application/json`)
 * fall through to the extension. Compressed input is refused: byte ranges of a gzip stream are not
 * records.
 */
export const formatOf = (contentType: string | undefined, key: string): RecordFormat => {
  const mediaType = mediaTypeOf(contentType);
  const extension = extensionOf(key);
  if (extension === 'gz' || COMPRESSED_TYPES.has(mediaType)) {
    throw new InvalidInput(
      'UNSUPPORTED_FORMAT',
      `"${key}" is compressed; batch input must be uncompressed JSON Lines or CSV. ${SUPPORTED}`,
    );
  }
  const format = BY_CONTENT_TYPE.get(mediaType) ?? BY_EXTENSION.get(extension);
  if (format === undefined) {
    throw new InvalidInput(
      'UNSUPPORTED_FORMAT',
      `Cannot tell the record format of "${key}"${contentType ? ` (content type ${contentType})` : ''}. ${SUPPORTED}`,
    );
  }
  return format;
};

/** The content type to write results of a format with. */
export const contentTypeOf = (format: RecordFormat): 'text/csv' | 'application/x-ndjson' =>
  format === 'csv' ? 'text/csv' : 'application/x-ndjson';
