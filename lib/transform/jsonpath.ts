import { InvalidInput } from '../errors';

/**
 * The JSONPath subset SageMaker Batch Transform documents for `DataProcessing` filters
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html#data-processing-operators),
 * and nothing more:
 *
 * | Operator              | Example                    |
 * | --------------------- | -------------------------- |
 * | `$` root (required)   | `$`                        |
 * | `.name`               | `$.id`                     |
 * | `*` wildcard          | `$.id.*`, `$[*]`           |
 * | `['name'(,'name')]`   | `$['id','prediction']`     |
 * | `[n(,n)]`, negative   | `$[1]`, `$[1,3,5]`, `[-1]` |
 * | `[start:end]`         | `$[2:5]`, `$[:5]`, `$[2:]` |
 * | indexes + one range   | `$[0,5:]`                  |
 *
 * Slices include their end: the guide's worked example reads `$[1:4]` as "the second through fifth
 * columns" and `[:5]` as "the first column (index 0) through the sixth column".
 *
 * What a path returns, following the guide's examples and Jayway JsonPath, which it links to:
 * - a path of names and single indexes only (`$`, `$.features`, `$[0]`) returns the one value;
 * - `['a','b']` as the last step returns an object with those keys (`$['id','prediction']`);
 * - any other path (wildcard, slice, index list, `['a','b']` before another step) returns an array
 *   of everything it selected, in order (`$[0,-1]` → `[first, last]`).
 *
 * When a path selects nothing it returns `undefined`, and callers turn that into a per-record error.
 * "Nothing" is strict: every name written must exist as an own field, every index and every
 * slice bound written must be inside the array (the API reference: "If you specify indexes that
 * aren't within the dimension size of the joined dataset, you get an error"), each step must meet
 * the type it needs (names need an object, indexes and slices an array, `*` either), and a slice
 * whose start lies after its end selects nothing. A wildcard over an empty object or array and an
 * unbounded slice of an empty array select an empty array, which is a value.
 */

export type IndexItem = { kind: 'index'; index: number } | { kind: 'slice'; start?: number; end?: number };

export type PathSegment =
  | { kind: 'name'; name: string }
  | { kind: 'names'; names: readonly string[] }
  | { kind: 'wildcard' }
  | { kind: 'index'; index: number }
  | { kind: 'union'; items: readonly IndexItem[] };

export interface CompiledJsonPath {
  readonly expression: string;
  readonly segments: readonly PathSegment[];
  /** True when the path returns one value (not an array of matches). */
  readonly single: boolean;
  /** True when some step selects by field name: such a path never matches a CSV row. */
  readonly usesNames: boolean;
}

export const SUPPORTED_JSONPATH =
  "Supported: $ (the root, required first), .name, ['name'], ['name1','name2'], * or [*], " +
  '[n], [-n] (from the end), [n1,n2,...], [start:end] with start and end optional and the end included ' +
  '(negative values count from the end), and indexes with one range, such as [0,5:].';

const invalid = (expression: string, reason: string, position?: number): InvalidInput =>
  new InvalidInput(
    'INVALID_FILTER',
    `"${expression}" is not a JSONPath this service supports: ${reason}` +
      `${position === undefined ? '' : ` (at position ${position})`}. ${SUPPORTED_JSONPATH}`,
    { expression, ...(position === undefined ? {} : { position }) },
  );

const NAME = /^[\p{L}\p{N}_$-]+/u;
const INTEGER = /^-?\d+/;

class Parser {
  private pos = 0;

  constructor(private readonly expression: string) {}

  parse(): PathSegment[] {
    const { expression } = this;
    if (!expression.startsWith('$')) throw invalid(expression, 'a path must start with $');
    this.pos = 1;
    const segments: PathSegment[] = [];
    while (this.pos < expression.length) {
      const ch = expression[this.pos];
      if (ch === '.') segments.push(...this.dotted());
      else if (ch === '[') segments.push(this.bracket());
      else throw this.fail(`unexpected "${ch}"`);
    }
    return segments;
  }

  private fail(reason: string, position = this.pos): InvalidInput {
    return invalid(this.expression, reason, position);
  }

  private peek(offset = 0): string | undefined {
    return this.expression[this.pos + offset];
  }

  private skipSpaces(): void {
    while (this.peek() === ' ') this.pos += 1;
  }

  /** `.name`, `.*`, or `.[...]` (the guide writes `$.field1.['child1','child2']`). */
  private dotted(): PathSegment[] {
    const next = this.peek(1);
    if (next === '.') throw this.fail('deep scan (..) is not supported');
    if (next === '*') {
      this.pos += 2;
      return [{ kind: 'wildcard' }];
    }
    if (next === '[') {
      this.pos += 1;
      return [this.bracket()];
    }
    const match = NAME.exec(this.expression.slice(this.pos + 1));
    if (!match) throw this.fail('expected a field name or * after "."', this.pos + 1);
    this.pos += 1 + match[0].length;
    if (this.peek() === '(') throw this.fail('functions such as .length() are not supported');
    return [{ kind: 'name', name: match[0] }];
  }

  private bracket(): PathSegment {
    const open = this.pos;
    this.pos += 1;
    this.skipSpaces();
    const ch = this.peek();
    let segment: PathSegment;
    if (ch === '?') throw this.fail('filter expressions [?(...)] are not supported');
    if (ch === '(') throw this.fail('script expressions [(...)] are not supported');
    if (ch === '*') {
      this.pos += 1;
      segment = { kind: 'wildcard' };
    } else if (ch === "'" || ch === '"') {
      segment = this.names();
    } else if (ch !== undefined && (ch === '-' || ch === ':' || (ch >= '0' && ch <= '9'))) {
      segment = this.indexes();
    } else if (ch === ']') {
      throw this.fail('empty brackets []');
    } else if (ch === undefined) {
      throw this.fail('unclosed "["', open);
    } else {
      throw this.fail(`unexpected "${ch}" in brackets`);
    }
    this.skipSpaces();
    if (this.peek() === undefined) throw this.fail('unclosed "["', open);
    if (this.peek() !== ']') throw this.fail(`expected "]" but found "${this.peek()}"`);
    this.pos += 1;
    return segment;
  }

  private names(): PathSegment {
    const names: string[] = [];
    for (;;) {
      const start = this.pos;
      const name = this.quoted();
      if (name.includes('.')) {
        throw this.fail(
          `nested names inside brackets ('${name}') are not supported; write $.a['b','c'] instead`,
          start,
        );
      }
      names.push(name);
      this.skipSpaces();
      if (this.peek() !== ',') break;
      this.pos += 1;
      this.skipSpaces();
      const next = this.peek();
      if (next !== "'" && next !== '"') throw this.fail('names and indexes cannot be mixed in one [...]');
    }
    if (names.length === 1) return { kind: 'name', name: names[0] as string };
    return { kind: 'names', names };
  }

  private quoted(): string {
    const quote = this.peek();
    const start = this.pos;
    this.pos += 1;
    let text = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw this.fail('unterminated quoted name', start);
      this.pos += 1;
      if (ch === quote) return text;
      if (ch === '\\') {
        const escaped = this.peek();
        if (escaped !== "'" && escaped !== '"' && escaped !== '\\') {
          throw this.fail('only \\\', \\" and \\\\ escapes are supported in names', this.pos - 1);
        }
        text += escaped;
        this.pos += 1;
      } else {
        text += ch;
      }
    }
  }

  private integer(): number | undefined {
    const match = INTEGER.exec(this.expression.slice(this.pos));
    if (!match) return undefined;
    const value = Number(match[0]);
    if (!Number.isSafeInteger(value)) throw this.fail(`${match[0]} is too large an index`);
    this.pos += match[0].length;
    return value === 0 ? 0 : value; // -0 is 0
  }

  private indexItem(): IndexItem {
    const start = this.pos;
    const first = this.integer();
    this.skipSpaces();
    if (this.peek() !== ':') {
      if (first === undefined) throw this.fail('expected an index', start);
      if (this.peek() === '.') throw this.fail('indexes must be whole numbers');
      return { kind: 'index', index: first };
    }
    this.pos += 1;
    this.skipSpaces();
    const second = this.integer();
    this.skipSpaces();
    if (this.peek() === ':') throw this.fail('slice steps ([start:end:step]) are not supported');
    if (
      first !== undefined &&
      second !== undefined &&
      Math.sign(first) === Math.sign(second) &&
      first > second
    ) {
      throw this.fail(`the slice [${first}:${second}] starts after it ends`, start);
    }
    return {
      kind: 'slice',
      ...(first === undefined ? {} : { start: first }),
      ...(second === undefined ? {} : { end: second }),
    };
  }

  private indexes(): PathSegment {
    const items: IndexItem[] = [];
    for (;;) {
      this.skipSpaces();
      const next = this.peek();
      if (next === "'" || next === '"') throw this.fail('names and indexes cannot be mixed in one [...]');
      items.push(this.indexItem());
      this.skipSpaces();
      if (this.peek() !== ',') break;
      this.pos += 1;
    }
    if (items.filter((item) => item.kind === 'slice').length > 1) {
      throw this.fail('only one start:end range is supported in one [...]');
    }
    const [only] = items;
    if (items.length === 1 && only?.kind === 'index') return { kind: 'index', index: only.index };
    return { kind: 'union', items };
  }
}

/**
 * Parses a filter once. Throws `InvalidInput('INVALID_FILTER')` for anything outside the documented
 * subset, with a message that lists what is supported.
 */
export const parseJsonPath = (expression: string): CompiledJsonPath => {
  const segments = new Parser(expression).parse();
  const last = segments.length - 1;
  const single = segments.every(
    (segment, i) =>
      segment.kind === 'name' || segment.kind === 'index' || (segment.kind === 'names' && i === last),
  );
  const usesNames = segments.some((segment) => segment.kind === 'name' || segment.kind === 'names');
  return { expression, segments, single, usesNames };
};

export type Selection = { ok: true; value: unknown } | { ok: false; reason: string };

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const typeName = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
};

const items = (n: number) => `${n} item${n === 1 ? '' : 's'}`;

class NoMatch extends Error {}

const resolveIndex = (index: number, array: readonly unknown[]): number => {
  const at = index < 0 ? array.length + index : index;
  if (at < 0 || at >= array.length) {
    throw new NoMatch(`index ${index} is outside an array of ${items(array.length)}`);
  }
  return at;
};

/** Inclusive slice; bounds that are written must be inside the array. */
const sliceOf = (item: { start?: number; end?: number }, array: readonly unknown[]): unknown[] => {
  const from = item.start === undefined ? 0 : resolveIndex(item.start, array);
  const to = item.end === undefined ? array.length - 1 : resolveIndex(item.end, array);
  if (array.length === 0) return []; // only [:] gets here: a written bound is outside an empty array
  if (from > to) {
    throw new NoMatch(
      `[${item.start ?? ''}:${item.end ?? ''}] selects nothing in an array of ${items(array.length)}`,
    );
  }
  return array.slice(from, to + 1);
};

const field = (node: unknown, name: string): unknown => {
  if (!isObject(node)) throw new NoMatch(`field "${name}" was looked for in ${typeName(node)}`);
  if (!Object.hasOwn(node, name)) throw new NoMatch(`there is no field "${name}"`);
  return node[name];
};

const arrayFor = (node: unknown, step: string): readonly unknown[] => {
  if (!Array.isArray(node)) throw new NoMatch(`${step} needs an array but found ${typeName(node)}`);
  return node;
};

const step = (segment: PathSegment, node: unknown, isLast: boolean): unknown[] => {
  switch (segment.kind) {
    case 'name':
      return [field(node, segment.name)];
    case 'names': {
      const values = segment.names.map((name) => [name, field(node, name)] as const);
      // Object.fromEntries defines own properties, so even a "__proto__" name stays a plain key.
      return isLast ? [Object.fromEntries(values)] : values.map(([, value]) => value);
    }
    case 'wildcard':
      if (Array.isArray(node)) return [...(node as unknown[])];
      if (isObject(node)) return Object.values(node);
      throw new NoMatch(`* needs an object or an array but found ${typeName(node)}`);
    case 'index': {
      const array = arrayFor(node, `[${segment.index}]`);
      return [array[resolveIndex(segment.index, array)]];
    }
    case 'union': {
      const array = arrayFor(node, 'an index or range');
      return segment.items.flatMap((item) =>
        item.kind === 'index' ? [array[resolveIndex(item.index, array)]] : sliceOf(item, array),
      );
    }
  }
};

/** Like `selectPath`, with the reason when the path selects nothing (for per-record error messages). */
export const trySelectPath = (path: CompiledJsonPath, value: unknown): Selection => {
  let nodes: unknown[] = [value];
  const last = path.segments.length - 1;
  try {
    path.segments.forEach((segment, i) => {
      nodes = nodes.flatMap((node) => step(segment, node, i === last));
    });
  } catch (error) {
    if (error instanceof NoMatch) return { ok: false, reason: error.message };
    throw error;
  }
  return { ok: true, value: path.single ? nodes[0] : nodes };
};

/**
 * Applies a compiled path to a value (a CSV row as an array of cells, or any JSON value).
 * Returns `undefined` when the path selects nothing; see the module comment for the rules.
 * Never mutates `value`; selected values are shared with it, not copied.
 */
export const selectPath = (path: CompiledJsonPath, value: unknown): unknown => {
  const selection = trySelectPath(path, value);
  return selection.ok ? selection.value : undefined;
};
