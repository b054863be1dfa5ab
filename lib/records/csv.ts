const QUOTE = 0x22;
const COMMA = 0x2c;

export type CsvCells = { ok: true; cells: string[] } | { ok: false; message: string };

/**
 * The cells of one CSV record (RFC 4180), given without its terminating newline. A field is quoted
 * when it starts with `"`; inside, `""` is a quote and commas and newlines (LF or CRLF, kept as
 * they are) are data. A quote inside an unquoted field, anything but a comma after a closing quote,
 * and an unterminated quote are errors, not guesses.
 */
export const parseCsvCells = (text: string): CsvCells => {
  // Cached so that a long record without quotes is scanned once, not once per field.
  let nextQuote = text.indexOf('"');
  if (nextQuote === -1) return { ok: true, cells: text.split(',') };
  const cells: string[] = [];
  const length = text.length;
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      const opened = i;
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote === -1)
          return { ok: false, message: `Quoted field at column ${opened + 1} is never closed` };
        if (text.charCodeAt(quote + 1) === QUOTE) {
          value += text.slice(from, quote + 1);
          from = quote + 2;
          continue;
        }
        value += text.slice(from, quote);
        i = quote + 1;
        break;
      }
      cells.push(value);
      if (i === length) return { ok: true, cells };
      if (text.charCodeAt(i) !== COMMA) {
        return { ok: false, message: `Unexpected character after the closing quote at column ${i + 1}` };
      }
      i++;
      nextQuote = text.indexOf('"', i);
    } else {
      const comma = text.indexOf(',', i);
      const fieldEnd = comma === -1 ? length : comma;
      if (nextQuote !== -1 && nextQuote < fieldEnd) {
        return { ok: false, message: `Quote inside an unquoted field at column ${nextQuote + 1}` };
      }
      cells.push(text.slice(i, fieldEnd));
      if (comma === -1) return { ok: true, cells };
      i = comma + 1;
    }
  }
};
