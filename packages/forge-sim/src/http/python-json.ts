/**
 * Request bodies decoded the way Starlette's `request.json()` decodes them: Python's
 * `json.loads(bytes)`, whose error messages and positions FastAPI copies into its 422
 * `json_invalid` answer.
 *
 * Well-formed bodies go through `JSON.parse` (fast, and the common case). Only when that fails
 * does {@link PythonJsonScanner} run: a small re-implementation of CPython 3.10's C scanner
 * (`Modules/_json.c`) that either finds the same first error Python would report, or accepts a
 * body Python accepts and JavaScript does not (`NaN`, `Infinity`, `-Infinity`).
 */

/** Python's `json.JSONDecodeError`: a message and a position counted in code points. */
export class PythonJsonError extends Error {
  /** Python's short message, e.g. `Expecting value`. */
  readonly pythonMessage: string;
  /** Index of the offending character, in code points as Python counts them. */
  readonly position: number;

  constructor(pythonMessage: string, position: number) {
    super(`${pythonMessage}: char ${position}`);
    this.name = 'PythonJsonError';
    this.pythonMessage = pythonMessage;
    this.position = position;
  }
}

/** Thrown when the bytes are not text Python could decode (FastAPI answers 400 for this). */
export class BodyDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodyDecodeError';
  }
}

/**
 * Decodes a request body as Python's `json.loads(bytes)` does.
 *
 * @throws BodyDecodeError when the bytes are not valid UTF-8/16/32 text
 * @throws PythonJsonError when the text is not JSON Python accepts
 */
export function parsePythonJson(body: Uint8Array): unknown {
  const text = decodeJsonText(body);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return new PythonJsonScanner(text).parseDocument();
  }
}

/** Python's `json.detect_encoding` followed by a strict decode. */
function decodeJsonText(body: Uint8Array): string {
  const encoding = detectEncoding(body);
  try {
    const text = new TextDecoder(encoding, { fatal: true, ignoreBOM: false }).decode(body);
    return text;
  } catch {
    throw new BodyDecodeError(`the body is not valid ${encoding} text`);
  }
}

function detectEncoding(bytes: Uint8Array): string {
  const [b0 = 1, b1 = 1, b2 = 1, b3 = 1] = bytes;
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) return 'utf-8';
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
    return b0 === 0xff ? 'utf-16le' : 'utf-16be';
  }
  if (bytes.length >= 4 && b0 === 0 && b1 === 0 && b2 === 0) return 'utf-32be';
  if (bytes.length >= 4 && b1 === 0 && b2 === 0 && b3 === 0) return 'utf-32le';
  if (bytes.length >= 2 && b0 === 0) return 'utf-16be';
  if (bytes.length >= 2 && b1 === 0) return 'utf-16le';
  return 'utf-8';
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

/** Signals "no value starts here" inside the scanner, as CPython's StopIteration does. */
class NoValue {
  constructor(readonly index: number) {}
}

/**
 * A recursive-descent JSON reader with CPython's error messages and positions.
 *
 * Positions are tracked in UTF-16 units while scanning and converted to code points when an
 * error is raised, because Python indexes strings by code point.
 */
class PythonJsonScanner {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  parseDocument(): unknown {
    const start = this.#skipWhitespace(0);
    let value: unknown;
    let end: number;
    try {
      [value, end] = this.#scanOnce(start);
    } catch (error) {
      if (error instanceof NoValue) throw this.#error('Expecting value', error.index);
      throw error;
    }
    end = this.#skipWhitespace(end);
    if (end !== this.#text.length) throw this.#error('Extra data', end);
    return value;
  }

  #error(message: string, index: number): PythonJsonError {
    const codePoints = [...this.#text.slice(0, index)].length;
    return new PythonJsonError(message, codePoints);
  }

  #skipWhitespace(index: number): number {
    let position = index;
    while (position < this.#text.length && WHITESPACE.has(this.#text[position] ?? '')) position++;
    return position;
  }

  #scanOnce(index: number): [unknown, number] {
    const text = this.#text;
    if (index >= text.length) throw new NoValue(index);
    const char = text[index];
    if (char === '"') return this.#scanString(index + 1);
    if (char === '{') return this.#scanObject(index + 1);
    if (char === '[') return this.#scanArray(index + 1);
    const constant = this.#scanConstant(index);
    if (constant) return constant;
    return this.#scanNumber(index);
  }

  #scanConstant(index: number): [unknown, number] | undefined {
    const constants: ReadonlyArray<readonly [string, unknown]> = [
      ['null', null],
      ['true', true],
      ['false', false],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
    ];
    for (const [word, value] of constants) {
      if (this.#text.startsWith(word, index)) return [value, index + word.length];
    }
    return undefined;
  }

  #scanNumber(index: number): [unknown, number] {
    NUMBER.lastIndex = index;
    const match = NUMBER.exec(this.#text);
    if (!match) throw new NoValue(index);
    return [Number(match[0]), index + match[0].length];
  }

  #scanString(contentStart: number): [string, number] {
    const text = this.#text;
    const begin = contentStart - 1;
    let out = '';
    let index = contentStart;
    for (;;) {
      if (index >= text.length) throw this.#error('Unterminated string starting at', begin);
      const char = text[index] ?? '';
      if (char === '"') return [out, index + 1];
      if (char === '\\') {
        const [decoded, next] = this.#scanEscape(index, begin);
        out += decoded;
        index = next;
        continue;
      }
      if (char.charCodeAt(0) <= 0x1f) throw this.#error('Invalid control character at', index);
      out += char;
      index++;
    }
  }

  /** Decodes the escape whose backslash is at `index`; returns the text and the next index. */
  #scanEscape(index: number, begin: number): [string, number] {
    const text = this.#text;
    const code = text[index + 1];
    if (code === undefined) throw this.#error('Unterminated string starting at', begin);
    if (code !== 'u') {
      const simple = SIMPLE_ESCAPES[code];
      if (simple === undefined) throw this.#error('Invalid \\escape', index);
      return [simple, index + 2];
    }
    const digitsStart = index + 2;
    if (digitsStart + 4 >= text.length) throw this.#error('Invalid \\uXXXX escape', index + 1);
    const hexDigits = text.slice(digitsStart, digitsStart + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hexDigits)) throw this.#error('Invalid \\uXXXX escape', index + 1);
    return [String.fromCharCode(Number.parseInt(hexDigits, 16)), digitsStart + 4];
  }

  #scanObject(afterBrace: number): [Record<string, unknown>, number] {
    const text = this.#text;
    const result: Record<string, unknown> = {};
    let index = this.#skipWhitespace(afterBrace);
    if (text[index] === '}') return [result, index + 1];
    for (;;) {
      if (text[index] !== '"') {
        throw this.#error('Expecting property name enclosed in double quotes', index);
      }
      const [key, afterKey] = this.#scanString(index + 1);
      index = this.#skipWhitespace(afterKey);
      if (text[index] !== ':') throw this.#error("Expecting ':' delimiter", index);
      index = this.#skipWhitespace(index + 1);
      const [value, afterValue] = this.#scanOnce(index);
      result[key] = value;
      index = this.#skipWhitespace(afterValue);
      if (text[index] === '}') return [result, index + 1];
      if (text[index] !== ',') throw this.#error("Expecting ',' delimiter", index);
      index = this.#skipWhitespace(index + 1);
    }
  }

  #scanArray(afterBracket: number): [unknown[], number] {
    const text = this.#text;
    const result: unknown[] = [];
    let index = this.#skipWhitespace(afterBracket);
    if (text[index] === ']') return [result, index + 1];
    for (;;) {
      const [value, afterValue] = this.#scanOnce(index);
      result.push(value);
      index = this.#skipWhitespace(afterValue);
      if (text[index] === ']') return [result, index + 1];
      if (text[index] !== ',') throw this.#error("Expecting ',' delimiter", index);
      index = this.#skipWhitespace(index + 1);
    }
  }
}
