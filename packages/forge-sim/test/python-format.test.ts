import { describe, expect, it } from 'vitest';

import {
  PyFloat,
  pyFloat,
  pyFloatRepr,
  pyJsonDumps,
  pyRepr,
  pyStr,
  pyStrip,
} from '../src/python-format.js';

// Every expected string below was produced by CPython 3.11 (repr, str, json.dumps).
describe('pyFloatRepr', () => {
  it.each([
    [7, '7.0'],
    [0.75, '0.75'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [1234567890123456, '1234567890123456.0'],
    [9999999999999998, '9999999999999998.0'],
    [1.2345678901234568e17, '1.2345678901234568e+17'],
    [1.5e300, '1.5e+300'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [-2.5, '-2.5'],
    [-0, '-0.0'],
    [0.1 + 0.2, '0.30000000000000004'],
    [NaN, 'nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ])('prints %s as %s', (value, expected) => {
    expect(pyFloatRepr(value)).toBe(expected);
  });
});

describe('pyStr', () => {
  it('prints floats with .0 only when they are marked as PyFloat', () => {
    expect(pyStr(pyFloat(7))).toBe('7.0');
    expect(pyStr(7)).toBe('7');
    expect(pyStr(3.5)).toBe('3.5');
    expect(pyStr(pyFloat(1e-5))).toBe('1e-05');
  });

  it('prints Python constants and leaves strings raw', () => {
    expect(pyStr(true)).toBe('True');
    expect(pyStr(false)).toBe('False');
    expect(pyStr(null)).toBe('None');
    expect(pyStr(undefined)).toBe('None');
    expect(pyStr("it's")).toBe("it's");
  });

  it('prints integers beyond 2^53 with every digit, as Python ints', () => {
    expect(pyStr(2 ** 60)).toBe('1152921504606846976');
    expect(pyStr(10n ** 20n)).toBe('100000000000000000000');
  });

  it('prints lists and dicts as Python repr', () => {
    expect(pyStr([1, 'a', null, true, pyFloat(2)])).toBe("[1, 'a', None, True, 2.0]");
    expect(pyStr({ a: 1, b: [pyFloat(1)] })).toBe("{'a': 1, 'b': [1.0]}");
  });

  it('quotes strings inside lists the way Python chooses quotes', () => {
    expect(pyStr(["it's"])).toBe(`["it's"]`);
    expect(pyStr(['a"b'])).toBe(`['a"b']`);
    expect(pyStr([`it's "x"`])).toBe(`['it\\'s "x"']`);
  });

  it('escapes non-printable characters in repr and keeps printable non-ASCII', () => {
    const text = 'tab\tnew\n\u0001\u2028é😀\u007f\u00a0\u200b';
    expect(pyRepr([text])).toBe("['tab\\tnew\\n\\x01\\u2028é😀\\x7f\\xa0\\u200b']");
  });

  it('rejects values Python could not have produced', () => {
    expect(() => pyStr(() => 1)).toThrow(TypeError);
    expect(() => pyStr(new Date(0))).toThrow(/cannot format/);
  });
});

describe('PyFloat', () => {
  it('behaves as its number in arithmetic and JSON.stringify', () => {
    const value = pyFloat(7);
    expect(value).toBeInstanceOf(PyFloat);
    expect(Number(value) + 1).toBe(8);
    expect(JSON.stringify({ cfg: value })).toBe('{"cfg":7}');
    expect(String(value)).toBe('7.0');
  });
});

describe('pyJsonDumps', () => {
  it('uses Python default separators', () => {
    expect(pyJsonDumps({ a: 1, b: [1, 2], c: {} })).toBe('{"a": 1, "b": [1, 2], "c": {}}');
    expect(pyJsonDumps([])).toBe('[]');
  });

  it('accepts other separators, such as the compact HTTP body form', () => {
    expect(pyJsonDumps({ a: [1, 2] }, { separators: [',', ':'] })).toBe('{"a":[1,2]}');
  });

  it('prints PyFloat with .0 and plain integral numbers as ints', () => {
    expect(pyJsonDumps({ cfg_scale: pyFloat(7), steps: 20, denoise: 0.5 })).toBe(
      '{"cfg_scale": 7.0, "steps": 20, "denoise": 0.5}',
    );
  });

  it('escapes non-ASCII as \\uXXXX, astral characters as surrogate pairs', () => {
    expect(pyJsonDumps('café ✓ 😀')).toBe('"caf\\u00e9 \\u2713 \\ud83d\\ude00"');
  });

  it('escapes quotes, backslashes and control characters like Python', () => {
    expect(pyJsonDumps('a"b\\c\n\t\b\f\r\u0001\u007f')).toBe(
      '"a\\"b\\\\c\\n\\t\\b\\f\\r\\u0001\\u007f"',
    );
  });

  it('keeps non-ASCII raw with ensureAscii off', () => {
    expect(pyJsonDumps('café\u007f\n\u2028', { ensureAscii: false })).toBe('"café\u007f\\n\u2028"');
  });

  it('prints NaN and infinities as Python does', () => {
    expect(pyJsonDumps([NaN, Infinity, -Infinity, pyFloat(NaN)])).toBe(
      '[NaN, Infinity, -Infinity, NaN]',
    );
  });

  it('omits undefined properties and prints callables as null', () => {
    expect(pyJsonDumps({ a: undefined, b: () => 1, c: null })).toBe('{"b": null, "c": null}');
  });

  it('rejects circular structures and class instances', () => {
    const loop: Record<string, unknown> = {};
    loop['self'] = loop;
    expect(() => pyJsonDumps(loop)).toThrow(/Circular reference/);
    expect(() => pyJsonDumps(new Map())).toThrow(/not JSON serializable/);
  });

  it('allows the same object twice when it is not nested in itself', () => {
    const shared = [1];
    expect(pyJsonDumps([shared, shared])).toBe('[[1], [1]]');
  });
});

describe('pyStrip', () => {
  it("strips Python's whitespace set, not JavaScript's", () => {
    expect(pyStrip('\u001c hi \t\n')).toBe('hi');
    expect(pyStrip('\ufeffhi')).toBe('\ufeffhi');
    expect(pyStrip('\u3000x\u2029')).toBe('x');
  });
});
