import sharp from 'sharp';
import { mulberry32 } from '../lib/seeded-random';

const phrases = [
  'Invoice 2026-11-25',
  'Total due: $1,284.00',
  'Longtail batch inference',
  'Shipping address',
  'Order #A-77310',
  'Net 30 days',
  'Page 3 of 12',
  'Account balance 409.17',
  'Signature required',
  'Thank you for your order',
  'VAT 20% included',
  'Delivery window 9-12',
];

export interface TextCrop {
  text: string;
  /** Turned upside down, as a page scanned the wrong way round gives. */
  upsideDown: boolean;
  png: Buffer;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * A line of text as a text detector would crop it from a 300 dpi scan: 8-bit grayscale PNG,
 * about 48 pixels high, dark text on white, at a size and margin that vary with the seed.
 */
export const renderTextCrop = async (text: string, upsideDown: boolean, seed = 1): Promise<TextCrop> => {
  const random = mulberry32(seed);
  const fontSize = 22 + Math.floor(random() * 8);
  const height = fontSize + 16 + Math.floor(random() * 8);
  const width = Math.ceil(text.length * fontSize * 0.58) + 12;
  const ink = Math.floor(random() * 60);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="6" y="${Math.round(height / 2 + fontSize * 0.36)}" font-family="DejaVu Sans" font-size="${fontSize}" ` +
    `fill="rgb(${ink},${ink},${ink})">${escapeXml(text)}</text></svg>`;
  let image = sharp(Buffer.from(svg)).flatten({ background: 'white' });
  if (upsideDown) image = image.rotate(180);
  return { text, upsideDown, png: await image.toColourspace('b-w').png().toBuffer() };
};

/** `count` distinct crops, every other one upside down, the same for the same seed. */
export const textCrops = async (count: number, seed = 7): Promise<TextCrop[]> => {
  const random = mulberry32(seed);
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const phrase = phrases[i % phrases.length] as string;
      return renderTextCrop(phrase, i % 2 === 1, Math.floor(random() * 1e9));
    }),
  );
};
