/**
 * The JSONPath subset of SageMaker Batch Transform's DataProcessing filters. Examples come from:
 * - https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html
 *   ("Supported JSONPath Operators" table, the note on brackets, and the worked CSV example's
 *   reading of slices);
 * - https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataProcessing.html
 *   (InputFilter examples "$", "$[1:]", "$.features"; OutputFilter examples "$", "$[0,5:]",
 *   "$['id','SageMakerOutput']"; out-of-range indexes are an error);
 * - https://github.com/aws/sagemaker-python-sdk/issues/1112 (two ranges in one filter are rejected).
 */
import { InvalidInput } from '../../lib/errors';
import { parseJsonPath, selectPath, trySelectPath } from '../../lib/transform/jsonpath';

const select = (expression: string, value: unknown) => selectPath(parseJsonPath(expression), value);

/** Six CSV cells, as batch transform sees a row: a JSON array. */
const row = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];

const expectInvalidFilter = (expression: string, reason?: RegExp) => {
  let caught: unknown;
  try {
    parseJsonPath(expression);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidInput);
  const error = caught as InvalidInput;
  expect(error.code).toBe('INVALID_FILTER');
  expect(error.message).toContain('Supported:');
  if (reason) expect(error.message).toMatch(reason);
};

describe('selectPath on the operators table of the SageMaker guide', () => {
  it('selects the whole value with $', () => {
    const record = { id: 1, features: [1, 2] };

    expect(select('$', record)).toBe(record);
    expect(select('$', row)).toBe(row);
  });

  it('selects a dot-notated child with $.id', () => {
    expect(select('$.id', { id: 'A-1', x: 2 })).toBe('A-1');
  });

  it('selects every value of a child object with the wildcard $.id.*', () => {
    const record = { id: { region: 'west', number: 7 } };

    expect(select('$.id.*', record)).toEqual(['west', 7]);
  });

  it("selects several children as an object with $['id','SageMakerOutput']", () => {
    const record = { id: 'A-1', features: [1, 2], SageMakerOutput: { label: 1 } };

    expect(select("$['id','SageMakerOutput']", record)).toEqual({ id: 'A-1', SageMakerOutput: { label: 1 } });
  });

  it('selects one element with $[1]', () => {
    expect(select('$[1]', row)).toBe('c1');
  });

  it('selects a list of indexes as an array with $[1,3,5]', () => {
    expect(select('$[1,3,5]', row)).toEqual(['c1', 'c3', 'c5']);
  });

  it('counts -1 as the last element', () => {
    expect(select('$[-1]', row)).toBe('c5');
  });

  it.each([
    ['$[2:5]', ['c2', 'c3', 'c4', 'c5']],
    ['$[:5]', ['c0', 'c1', 'c2', 'c3', 'c4', 'c5']],
    ['$[2:]', ['c2', 'c3', 'c4', 'c5']],
  ])('slices %s', (expression, expected) => {
    expect(select(expression, row)).toEqual(expected);
  });

  it("supports bracketed children after a dotted field: $.field1.['child1','child2']", () => {
    const record = { field1: { child1: 1, child2: 2, child3: 3 } };

    expect(select("$.field1.['child1','child2']", record)).toEqual({ child1: 1, child2: 2 });
    expect(select("$.field1['child1','child2']", record)).toEqual({ child1: 1, child2: 2 });
  });

  it("rejects nesting inside brackets: $.field1.['child1','child2.grandchild']", () => {
    expectInvalidFilter("$.field1.['child1','child2.grandchild']", /nested names inside brackets/);
  });
});

describe('selectPath on the slice examples of the worked CSV example', () => {
  it('reads $[1:] as every column but the first', () => {
    expect(select('$[1:]', row)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
  });

  it('reads $[1:4] as the second through fifth columns (the end is included)', () => {
    expect(select('$[1:4]', row)).toEqual(['c1', 'c2', 'c3', 'c4']);
  });

  it('reads [5:] as the sixth column through the last', () => {
    expect(select('$[5:]', row)).toEqual(['c5']);
  });

  it('reads [:5] as the first column (index 0) through the sixth', () => {
    expect(select('$[:5]', row)).toEqual(row);
  });
});

describe('selectPath on the API reference examples', () => {
  it.each([
    ['$', { id: 1, features: [3, 4] }, { id: 1, features: [3, 4] }],
    ['$[1:]', ['id-7', '0.5', '12'], ['0.5', '12']],
    ['$.features', { id: 1, features: [3, 4] }, [3, 4]],
  ])('InputFilter %s', (expression, record, expected) => {
    expect(select(expression, record)).toEqual(expected);
  });

  it('OutputFilter $[0,5:] keeps the first column and the sixth onwards', () => {
    const joined = ['id-7', 'f1', 'f2', 'f3', 'f4', 'churn', '0.8'];

    expect(select('$[0,5:]', joined)).toEqual(['id-7', 'churn', '0.8']);
  });

  it("OutputFilter $['id','SageMakerOutput'] keeps the id and the output", () => {
    const joined = { id: 7, features: [1, 2], SageMakerOutput: { label: 1 } };

    expect(select("$['id','SageMakerOutput']", joined)).toEqual({ id: 7, SageMakerOutput: { label: 1 } });
  });

  it('gives nothing for an index outside the joined record', () => {
    expect(select('$[0,5:]', ['id-7', 'churn', '0.8'])).toBeUndefined();
  });
});

describe('selectPath with negative indexes and slices', () => {
  it('keeps the first and last columns with $[0,-1]', () => {
    expect(select('$[0,-1]', row)).toEqual(['c0', 'c5']);
  });

  it.each([
    ['$[-2:]', ['c4', 'c5']],
    ['$[:-2]', ['c0', 'c1', 'c2', 'c3', 'c4']],
    ['$[-3:-2]', ['c3', 'c4']],
    ['$[1:-1]', ['c1', 'c2', 'c3', 'c4', 'c5']],
    ['$[-6:0]', ['c0']],
    ['$[:]', row],
    ['$[0,-2:]', ['c0', 'c4', 'c5']],
    ['$[-1,0]', ['c5', 'c0']],
  ])('%s', (expression, expected) => {
    expect(select(expression, row)).toEqual(expected);
  });

  it('selects the same element twice when two indexes name it', () => {
    expect(select('$[0,-1]', ['only'])).toEqual(['only', 'only']);
  });

  it('selects nothing when a slice written with mixed signs starts after it ends', () => {
    expect(select('$[-1:1]', row)).toBeUndefined();
  });

  it('returns an empty array for an unbounded slice of an empty array', () => {
    expect(select('$[:]', [])).toEqual([]);
  });
});

describe('selectPath when nothing matches', () => {
  it.each([
    ['$[6]', 'index 6 is outside an array of 6 items'],
    ['$[-7]', 'index -7 is outside an array of 6 items'],
    ['$[0,9]', 'index 9 is outside an array of 6 items'],
    ['$[6:]', 'index 6 is outside an array of 6 items'],
    ['$[:6]', 'index 6 is outside an array of 6 items'],
    ['$[-7:]', 'index -7 is outside an array of 6 items'],
    ['$.id', 'field "id" was looked for in an array'],
    ['$.*.x', 'field "x" was looked for in a string'],
  ])('gives nothing for %s on a six-cell row', (expression, reason) => {
    expect(select(expression, row)).toBeUndefined();
    expect(trySelectPath(parseJsonPath(expression), row)).toEqual({ ok: false, reason });
  });

  it('gives nothing for a missing key', () => {
    expect(select('$.features', { id: 1 })).toBeUndefined();
  });

  it('gives nothing when one of several named keys is missing', () => {
    expect(select("$['id','prediction']", { id: 1 })).toBeUndefined();
  });

  it('gives nothing for an index into an object', () => {
    expect(select('$[0]', { 0: 'zero' })).toBeUndefined();
  });

  it('gives nothing for a wildcard on a number', () => {
    expect(select('$.n.*', { n: 3 })).toBeUndefined();
  });

  it('gives nothing when one element of a wildcard lacks the next field', () => {
    expect(select('$.items[*].id', { items: [{ id: 1 }, { name: 'x' }] })).toBeUndefined();
  });

  it('does not find inherited properties', () => {
    expect(select('$.constructor', {})).toBeUndefined();
    expect(select('$.toString', { a: 1 })).toBeUndefined();
  });

  it('returns a null value as null, not as nothing', () => {
    expect(select('$.score', { score: null })).toBeNull();
  });

  it('returns an empty array for a wildcard over an empty object', () => {
    expect(select('$.tags.*', { tags: {} })).toEqual([]);
  });
});

describe('selectPath on chained paths', () => {
  const record = {
    id: 'A-1',
    features: [0.1, 0.2, 0.3],
    items: [
      { id: 1, qty: 2, price: 5 },
      { id: 2, qty: 1, price: 9 },
    ],
  };

  it('slices a named array with $.features[1:]', () => {
    expect(select('$.features[1:]', record)).toEqual([0.2, 0.3]);
  });

  it('indexes a named array with $.features[-1]', () => {
    expect(select('$.features[-1]', record)).toBe(0.3);
  });

  it('collects a field of every element with $.items[*].id and $.items.*.id', () => {
    expect(select('$.items[*].id', record)).toEqual([1, 2]);
    expect(select('$.items.*.id', record)).toEqual([1, 2]);
  });

  it("gives one object per element with $.items[*]['id','qty']", () => {
    expect(select("$.items[*]['id','qty']", record)).toEqual([
      { id: 1, qty: 2 },
      { id: 2, qty: 1 },
    ]);
  });

  it("gives the values, not an object, when ['a','b'] is followed by another step", () => {
    const value = { a: { x: 1 }, b: { x: 2 } };

    expect(select("$['a','b'].x", value)).toEqual([1, 2]);
  });

  it('reads bracketed and dotted names the same way', () => {
    expect(select("$['items'][0]['price']", record)).toBe(5);
    expect(select('$["items"][1].price', record)).toBe(9);
  });

  it('allows spaces inside brackets', () => {
    expect(select('$[ 0 , -1 ]', row)).toEqual(['c0', 'c5']);
    expect(select("$[ 'id' , 'features' ]", record)).toEqual({ id: 'A-1', features: [0.1, 0.2, 0.3] });
    expect(select('$[ 1 : 2 ]', row)).toEqual(['c1', 'c2']);
  });

  it('reads escaped quotes and names that are not identifiers', () => {
    const value = { "it's": 1, 'a b': 2, 'x-y': 3, é: 4, '': 5 };

    expect(select("$['it\\'s']", value)).toBe(1);
    expect(select("$['a b']", value)).toBe(2);
    expect(select('$.x-y', value)).toBe(3);
    expect(select('$.é', value)).toBe(4);
    expect(select("$['']", value)).toBe(5);
  });

  it('keeps a "__proto__" name as a plain key of the result', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown;

    const selected = select("$['__proto__','a']", value) as Record<string, unknown>;

    expect(Object.keys(selected)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(selected)).toBe(Object.prototype);
  });

  it('does not change the value it reads', () => {
    const value = { a: [1, 2, 3], b: { c: 1 } };
    const before = structuredClone(value);

    select('$.a[0,-1]', value);
    select("$['a','b']", value);
    select('$.*', value);

    expect(value).toEqual(before);
  });
});

describe('parseJsonPath', () => {
  it.each([
    ['a deep scan', '$..a', /deep scan/],
    ['a filter expression', '$[?(@.a > 1)]', /filter expressions/],
    ['a filter expression after a name', '$.items[?(@.qty)]', /filter expressions/],
    ['a script expression', '$[(@.length-1)]', /script expressions/],
    ['a function', '$.a.length()', /functions/],
    ['a path that does not start at the root', 'a.b', /must start with \$/],
    ['the current-node symbol', '@.a', /must start with \$/],
    ['an empty filter', '', /must start with \$/],
    ['a name without a dot', '$a', /unexpected "a"/],
    ['a trailing dot', '$.', /expected a field name/],
    ['a slice with a step', '$[0:5:2]', /slice steps/],
    ['two ranges in one bracket', '$[0:2,246:]', /only one start:end range/],
    ['empty brackets', '$[]', /empty brackets/],
    ['an unclosed bracket', '$[0', /unclosed/],
    ['an unterminated name', "$['id", /unterminated/],
    ['names mixed with indexes', "$['a',0]", /cannot be mixed/],
    ['indexes mixed with names', "$[0,'a']", /cannot be mixed/],
    ['a fractional index', '$[1.5]', /whole numbers/],
    ['an unquoted name in brackets', '$[id]', /unexpected "i"/],
    ['a slice that starts after it ends', '$[3:1]', /starts after it ends/],
    ['a negative slice that starts after it ends', '$[-1:-3]', /starts after it ends/],
    ['leading spaces', ' $', /must start with \$/],
    ['trailing spaces', '$.a ', /unexpected " "/],
    ['an unsupported escape', "$['a\\n']", /escapes/],
  ])('rejects %s (%s) with INVALID_FILTER', (_what, expression, reason) => {
    expectInvalidFilter(expression, reason);
  });

  it('says where the problem is', () => {
    expect(() => parseJsonPath('$.a..b')).toThrow(/at position 3/);
  });

  it('keeps the expression in the error details', () => {
    let caught: unknown;
    try {
      parseJsonPath('$..a');
    } catch (error) {
      caught = error;
    }

    expect((caught as InvalidInput).details).toEqual({ expression: '$..a', position: 1 });
  });

  it('tells paths that select by name from index-only paths', () => {
    expect(parseJsonPath('$[1:]').usesNames).toBe(false);
    expect(parseJsonPath('$[*]').usesNames).toBe(false);
    expect(parseJsonPath('$.features').usesNames).toBe(true);
    expect(parseJsonPath("$['id','x']").usesNames).toBe(true);
  });
});
