import { describe, expect, it } from 'vitest';

import { BodyDecodeError, parsePythonJson, PythonJsonError } from '../../src/http/python-json.js';

function errorOf(text: string | Uint8Array): { message: string; position: number } {
  try {
    parsePythonJson(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  } catch (error) {
    if (error instanceof PythonJsonError)
      return { message: error.pythonMessage, position: error.position };
    throw error;
  }
  throw new Error(`${String(text)} parsed without error`);
}

describe('parsePythonJson', () => {
  it('parses valid JSON, including the constants Python accepts and JavaScript does not', () => {
    expect(parsePythonJson(Buffer.from('{"a": [1, 2.5, "x"]}'))).toEqual({ a: [1, 2.5, 'x'] });
    expect(parsePythonJson(Buffer.from('[NaN, Infinity, -Infinity]'))).toEqual([
      NaN,
      Infinity,
      -Infinity,
    ]);
    expect(parsePythonJson(Buffer.from('\ufeff{"bom": true}'))).toEqual({ bom: true });
  });

  it.each([
    ['', 'Expecting value', 0],
    ['{"a": }', 'Expecting value', 6],
    ['{"steps": 20,}', 'Expecting property name enclosed in double quotes', 13],
    ['{"a" 1}', "Expecting ':' delimiter", 5],
    ['[1 2]', "Expecting ',' delimiter", 3],
    ['[1,]', 'Expecting value', 3],
    ['{"a": 1} x', 'Extra data', 9],
    ['01', 'Extra data', 1],
    ['"abc', 'Unterminated string starting at', 0],
    ['"a\tb"', 'Invalid control character at', 2],
    ['"a\\qb"', 'Invalid \\escape', 2],
    ['"\\u12G4"', 'Invalid \\uXXXX escape', 2],
    ['{"é": x}', 'Expecting value', 6],
    ['["😀", x]', 'Expecting value', 6],
  ])('reports %j as Python does', (text, message, position) => {
    expect(errorOf(text)).toEqual({ message, position });
  });

  it('refuses bytes that are not text', () => {
    expect(() => parsePythonJson(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]))).toThrow(
      BodyDecodeError,
    );
  });
});
