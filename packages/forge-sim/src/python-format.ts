/**
 * Python's text rules, reproduced byte for byte.
 *
 * Forge is a Python program: every number, list and JSON string it writes goes through `str()`,
 * `repr()` or `json.dumps()`. JavaScript prints the same values differently (`7` instead of
 * `7.0`, `true` instead of `True`, no `\uXXXX` escapes), so the simulator formats through here.
 */

/**
 * A number that Python holds as a `float`.
 *
 * JavaScript has one number type, but Python prints `7` (int) and `7.0` (float) differently.
 * Wrap every value that Forge holds as a float (anything pydantic coerced to `float`, dataclass
 * float defaults such as `cfg_scale = 7.0`) so {@link pyStr} and {@link pyJsonDumps} print it
 * the way Python would.
 */
export class PyFloat {
  /** The wrapped value. */
  readonly value: number;

  /** @param value - the number Python holds as a float */
  constructor(value: number) {
    this.value = value;
  }

  /** Lets `JSON.stringify` print the bare number when Python formatting is not needed. */
  toJSON(): number {
    return this.value;
  }

  /** Lets arithmetic and comparisons use the wrapped number. */
  valueOf(): number {
    return this.value;
  }

  /** Python's `str(float)`. */
  toString(): string {
    return pyFloatRepr(this.value);
  }
}

/** A number as Python sees it: a plain integral `number` is an int, a {@link PyFloat} a float. */
export type PyNumber = number | PyFloat;

/**
 * Marks a number as a Python float.
 *
 * @example
 * pyStr(pyFloat(7)); // '7.0'
 */
export function pyFloat(value: number): PyFloat {
  return new PyFloat(value);
}

/** Whether a value is a {@link PyFloat}. */
export function isPyFloat(value: unknown): value is PyFloat {
  return value instanceof PyFloat;
}

/** The plain number behind a {@link PyNumber}. */
export function pyNumberValue(value: PyNumber): number {
  return typeof value === 'number' ? value : value.value;
}

/**
 * Python's `repr(float)` (also its `str()`): the shortest digits that round-trip, in positional
 * notation while the decimal point sits between 10^-4 and 10^16, otherwise in exponent notation
 * with a signed, at least two-digit exponent.
 *
 * @example
 * pyFloatRepr(7); // '7.0'
 * pyFloatRepr(1e-5); // '1e-05'
 * pyFloatRepr(1e16); // '1e+16'
 */
export function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';

  const sign = value < 0 ? '-' : '';
  // toExponential() without an argument yields the shortest round-trip digits, as Python's repr.
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const pointPosition = exponent + 1;

  if (pointPosition > -4 && pointPosition <= 16) {
    return sign + positionalDigits(digits, pointPosition);
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const exponentDigits = String(Math.abs(exponent)).padStart(2, '0');
  return `${sign}${head}e${exponent < 0 ? '-' : '+'}${exponentDigits}`;
}

function positionalDigits(digits: string, pointPosition: number): string {
  if (pointPosition <= 0) return `0.${'0'.repeat(-pointPosition)}${digits}`;
  if (pointPosition >= digits.length) {
    return `${digits}${'0'.repeat(pointPosition - digits.length)}.0`;
  }
  return `${digits.slice(0, pointPosition)}.${digits.slice(pointPosition)}`;
}

/** Python's `str(int)`; integral numbers beyond 2^53 print every digit, as Python ints do. */
function pyIntText(value: number | bigint): string {
  return typeof value === 'bigint' ? value.toString() : BigInt(value).toString();
}

/** Python `str()` of a number: integral plain numbers are ints, everything else a float. */
function pyNumberText(value: number): string {
  return Number.isInteger(value) ? pyIntText(value) : pyFloatRepr(value);
}

/**
 * Python's `str()` of a JSON-like value.
 *
 * Strings print raw; `null`/`undefined` print `None`; booleans `True`/`False`; integral numbers
 * as ints and {@link PyFloat}s (or non-integral numbers) as floats; arrays and plain objects as
 * Python's list and dict repr.
 *
 * @throws TypeError for functions, symbols and other values Python could not have produced
 * @example
 * pyStr([1, 'a', null, true, pyFloat(2)]); // "[1, 'a', None, True, 2.0]"
 */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

/**
 * Python's `repr()` of a JSON-like value; differs from {@link pyStr} only for strings, which are
 * quoted and escaped as Python 3 does.
 *
 * @throws TypeError for functions, symbols and other values Python could not have produced
 */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pyNumberText(value);
  if (typeof value === 'bigint') return pyIntText(value);
  if (typeof value === 'string') return pyStringRepr(value);
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (Array.isArray(value)) return `[${value.map((item) => pyRepr(item)).join(', ')}]`;
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    return `{${entries.map(([key, item]) => `${pyStringRepr(key)}: ${pyRepr(item)}`).join(', ')}}`;
  }
  throw new TypeError(`pyRepr: cannot format a ${typeof value} as a Python value`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// Python's str.isprintable() is false for these categories; the ASCII space is the exception.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python 3 `repr(str)`: single quotes unless only double quotes avoid escaping. */
function pyStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) out += escapeReprChar(char, quote);
  return out + quote;
}

function escapeReprChar(char: string, quote: string): string {
  if (char === quote || char === '\\') return `\\${char}`;
  if (char === '\t') return '\\t';
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === ' ' || !NON_PRINTABLE.test(char)) return char;

  const codePoint = char.codePointAt(0) ?? 0;
  if (codePoint <= 0xff) return `\\x${hex(codePoint, 2)}`;
  if (codePoint <= 0xffff) return `\\u${hex(codePoint, 4)}`;
  return `\\U${hex(codePoint, 8)}`;
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** Options of {@link pyJsonDumps}, named after `json.dumps` keyword arguments. */
export interface PyJsonDumpsOptions {
  /**
   * Escape every non-ASCII character as `\uXXXX` (astral characters as surrogate pairs).
   * @defaultValue true
   */
  readonly ensureAscii?: boolean;
  /**
   * The item and key separators; Starlette's compact HTTP bodies use `[',', ':']`.
   * @defaultValue [', ', ': ']
   */
  readonly separators?: readonly [item: string, key: string];
}

/**
 * Python's `json.dumps(value)` with its defaults: `", "` and `": "` separators,
 * `ensure_ascii=True`, NaN and infinities printed as `NaN`/`Infinity`/`-Infinity`, integral
 * numbers as ints and {@link PyFloat}s as floats (`7.0`).
 *
 * Object properties that are `undefined` are left out; functions and symbols print `null`, as
 * Forge's `json.dumps(..., default=lambda o: None)` does for callables.
 *
 * @throws TypeError on a circular structure or a value JSON cannot hold
 * @example
 * pyJsonDumps({ cfg_scale: pyFloat(7), prompt: 'café' }); // '{"cfg_scale": 7.0, "prompt": "caf\\u00e9"}'
 */
export function pyJsonDumps(value: unknown, options: PyJsonDumpsOptions = {}): string {
  const [itemSeparator, keySeparator] = options.separators ?? [', ', ': '];
  const writer = new PyJsonWriter(options.ensureAscii ?? true, itemSeparator, keySeparator);
  return writer.write(value);
}

class PyJsonWriter {
  readonly #ensureAscii: boolean;
  readonly #itemSeparator: string;
  readonly #keySeparator: string;
  readonly #open = new Set<object>();

  constructor(ensureAscii: boolean, itemSeparator: string, keySeparator: string) {
    this.#ensureAscii = ensureAscii;
    this.#itemSeparator = itemSeparator;
    this.#keySeparator = keySeparator;
  }

  write(value: unknown): string {
    if (value === null || value === undefined) return 'null';
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (typeof value === 'number')
      return Number.isInteger(value) ? pyIntText(value) : jsonFloat(value);
    if (typeof value === 'bigint') return pyIntText(value);
    if (typeof value === 'string') return pyJsonString(value, this.#ensureAscii);
    if (typeof value === 'function' || typeof value === 'symbol') return 'null';
    if (value instanceof PyFloat) return jsonFloat(value.value);
    if (Array.isArray(value)) return this.#container(value, () => this.#array(value));
    if (isPlainObject(value)) return this.#container(value, () => this.#object(value));
    throw new TypeError(
      `pyJsonDumps: Object of type ${value.constructor.name} is not JSON serializable`,
    );
  }

  #container(value: object, render: () => string): string {
    if (this.#open.has(value)) throw new TypeError('pyJsonDumps: Circular reference detected');
    this.#open.add(value);
    try {
      return render();
    } finally {
      this.#open.delete(value);
    }
  }

  #array(items: readonly unknown[]): string {
    return `[${items.map((item) => this.write(item)).join(this.#itemSeparator)}]`;
  }

  #object(record: Record<string, unknown>): string {
    const parts: string[] = [];
    for (const [key, item] of Object.entries(record)) {
      if (item === undefined) continue;
      parts.push(pyJsonString(key, this.#ensureAscii) + this.#keySeparator + this.write(item));
    }
    return `{${parts.join(this.#itemSeparator)}}`;
  }
}

function jsonFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return pyFloatRepr(value);
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

// Python escapes everything outside printable ASCII when ensure_ascii is on, and only control
// characters, quotes and backslashes when it is off. Lone UTF-16 units are matched one by one,
// so astral characters come out as surrogate pairs, as Python writes them.
// eslint-disable-next-line no-control-regex -- these control characters are what Python escapes
const ESCAPE_ASCII = /["\\\u0000-\u001f\u007f-\uffff]/g;
// eslint-disable-next-line no-control-regex -- these control characters are what Python escapes
const ESCAPE_CONTROL = /["\\\u0000-\u001f]/g;

function pyJsonString(text: string, ensureAscii: boolean): string {
  const pattern = ensureAscii ? ESCAPE_ASCII : ESCAPE_CONTROL;
  const escaped = text.replace(
    pattern,
    (char) => NAMED_ESCAPES[char] ?? `\\u${hex(char.charCodeAt(0), 4)}`,
  );
  return `"${escaped}"`;
}

// Python's str.isspace() set, which differs from JavaScript's \s (it includes \x1c-\x1f and
// excludes U+FEFF).
const PY_WHITESPACE_CLASS =
  '\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_WHITESPACE_CLASS}]+|[${PY_WHITESPACE_CLASS}]+$`, 'g');

/** A regular-expression character class body matching what Python's `str.isspace()` accepts. */
export const PY_WHITESPACE_CHARS = PY_WHITESPACE_CLASS;

/** Python's `str.strip()` with no argument. */
export function pyStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}
