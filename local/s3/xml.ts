import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { malformedXml } from './errors';

const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false, processEntities: true });
const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  // Lists S3 clients send: a single element must still read as a list.
  isArray: (name) => ['Part', 'Object'].includes(name),
});

const namespace = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** An S3 XML document: `root` in S3's namespace holding `body` (arrays repeat the element). */
export const toXml = (root: string, body: Record<string, unknown>) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: { '@_xmlns': namespace, ...body } }) as string}`;

/** An S3 error document (no namespace, as S3 sends it). */
export const errorXml = (code: string, message: string, extra: Record<string, string>) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ Error: { Code: code, Message: message, ...extra } }) as string}`;

/** Parses a request's XML body; a body that is not XML or lacks `root` is MalformedXML. */
export const parseXml = <T>(text: string, root: string): T => {
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(text, true) as Record<string, unknown>;
  } catch {
    throw malformedXml();
  }
  const document = parsed[root];
  if (document === undefined || typeof document !== 'object' || document === null) throw malformedXml();
  return document as T;
};
