/**
 * The template parser: prompt text in the dynamicprompts syntax to a {@link ParsedTemplate}.
 *
 * It is a hand-written recursive-descent parser over UTF-16 code units. Plain text runs are
 * copied in one slice; only the characters of the grammar stop it (`{ } | $ % _ # \`). Text that
 * merely looks like syntax stays text, as it does in prompts written for Forge: a `$` or `%` not
 * followed by `{`, a `}` or `|` outside a variant, and `__` that does not close into a wildcard
 * name on the same line (`^__^`). Only a construct that was opened and not closed is an error.
 *
 * Parsed templates are kept in an LRU cache keyed by their text, so a template used for every
 * image of a batch, or by every job of a preset, is parsed once.
 */
import {
  EMPTY_TEXT,
  type AssignmentNode,
  type ParsedTemplate,
  type SamplerOverride,
  type TemplateNode,
  type VariableNode,
  type VariantNode,
  type VariantOption,
  type WildcardNode,
  type WildcardParameter,
} from './template-ast.js';
import { LruCache } from './lru-cache.js';
import { WildcardError, syntaxError } from './wildcard-error.js';

/** The longest template the parser accepts, in characters. */
export const MAX_TEMPLATE_CHARS = 100_000;

/** The deepest nesting of `{`, `${`, `%{` and `__` the parser accepts. */
export const MAX_NESTING = 100;

/** Where a text to parse comes from. */
export interface ParseOrigin {
  /** `template`, or the key of the wildcard file the text was read from. */
  source: string;
  /** The line of the source on which the text starts, from 1. */
  firstLine?: number;
}

const TEMPLATE_ORIGIN: ParseOrigin = { source: 'template' };
const TEMPLATE_CACHE_ENTRIES = 1_000;
/** Longer templates are parsed every time rather than kept, to bound the cache's memory. */
const MAX_CACHED_TEMPLATE_CHARS = 20_000;
const templateCache = new LruCache<string, ParsedTemplate>(TEMPLATE_CACHE_ENTRIES);

/**
 * Parses a template, reusing the cached tree of a template parsed before.
 *
 * @throws {@link WildcardError} `FT_ERR_WILDCARD_SYNTAX` for a construct opened and not closed, a
 *   bad variable name or a bad count range; `FT_ERR_WILDCARD_LIMIT` for a template longer than
 *   {@link MAX_TEMPLATE_CHARS}.
 */
export function parseTemplate(text: string, origin: ParseOrigin = TEMPLATE_ORIGIN): ParsedTemplate {
  const cacheable = origin === TEMPLATE_ORIGIN && text.length <= MAX_CACHED_TEMPLATE_CHARS;
  if (cacheable) {
    const cached = templateCache.get(text);
    if (cached !== undefined) return cached;
  }
  const parsed = new TemplateParser(text, origin).parse();
  if (cacheable) templateCache.set(text, parsed);
  return parsed;
}

/** Empties the parsed-template cache (for tests and benchmarks that time parsing). */
export function clearTemplateCache(): void {
  templateCache.clear();
}

// What ends a sequence: nothing but the end of the text (TOP), an option's `|` or `}` (OPTION),
// a `}` (CLOSE: variable values, defaults, the inner part of a wrap), or a wrap's `$$` (WRAPPER).
type StopMode = 'top' | 'option' | 'close' | 'wrapper';

const BACKSLASH = 0x5c;
const HASH = 0x23;
const PIPE = 0x7c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const DOLLAR = 0x24;
const PERCENT = 0x25;
const UNDERSCORE = 0x5f;
const OPEN_PAREN = 0x28;
const COLON = 0x3a;
const EQUALS = 0x3d;
const QUESTION = 0x3f;
const BANG = 0x21;

const SPECIAL = new Uint8Array(128);
for (const char of '\\#|{}$%_') SPECIAL[char.charCodeAt(0)] = 1;
/** Characters a backslash turns into plain text; any other backslash is kept, for Forge's `\(`. */
const ESCAPABLE = new Set('{}|$%_#');
/**
 * Characters a wildcard name may hold besides variables and variants: letters, digits, inner
 * spaces, `/`, `_ - . ' & +` and the glob characters. Anything else (a comma, `^`, a line break)
 * means the `__` was not a wildcard after all, as in `^__^, tea__` or `score_9__,`.
 */
const NAME_RUN = /[\p{L}\p{N}\p{M}_\-./ *?[\]!'&+]+/uy;

const SAMPLER_MARKS: Readonly<Record<string, SamplerOverride>> = {
  '~': 'random',
  '@': 'cyclical',
  '!': 'combinatorial',
};
const BOUND = /(\d{1,9})?(?:(-)(\d{1,9})?)?\$\$/y;
const SEPARATOR = /([^${}]*)\$\$/y;
const WEIGHT = /([+-]?(?:\d+(?:\.\d*)?|\.\d+))::/y;
const VARIABLE_NAME = /[A-Za-z_-][\w-]*/y;
const WHITESPACE = /\s*/y;

/** One parse of one text. Use {@link parseTemplate}. */
class TemplateParser {
  readonly #text: string;
  readonly #origin: ParseOrigin;
  #pos = 0;
  #end: number;
  #depth = 0;
  #usesCycles = false;

  constructor(text: string, origin: ParseOrigin) {
    this.#text = text;
    this.#origin = origin;
    this.#end = text.length;
  }

  parse(): ParsedTemplate {
    if (this.#text.length > MAX_TEMPLATE_CHARS) {
      throw new WildcardError(
        'FT_ERR_WILDCARD_LIMIT',
        `${this.#origin.source} is ${this.#text.length} characters long; at most ` +
          `${MAX_TEMPLATE_CHARS} are allowed`,
        { source: this.#origin.source, limit: MAX_TEMPLATE_CHARS },
      );
    }
    const root = this.#sequence('top');
    return {
      root,
      text: this.#text,
      source: this.#origin.source,
      usesCycles: this.#usesCycles,
    };
  }

  /** Reads nodes until the stop mode says so (leaving the stopping character unread). */
  #sequence(stop: StopMode): TemplateNode {
    const parts: TemplateNode[] = [];
    const assignments: AssignmentNode[] = [];
    let text = '';
    const flush = (): void => {
      if (text.length > 0) parts.push({ type: 'text', text });
      text = '';
    };
    while (this.#pos < this.#end) {
      const code = this.#text.charCodeAt(this.#pos);
      if (code >= 128 || SPECIAL[code] === 0) {
        text += this.#plainRun();
        continue;
      }
      if (this.#stopsHere(code, stop)) break;
      const node = this.#special(code);
      if (typeof node === 'string') {
        text += node;
      } else if (node.type === 'assignment') {
        assignments.push(node);
      } else {
        flush();
        parts.push(node);
      }
    }
    flush();
    return buildSequence(parts, assignments);
  }

  #plainRun(): string {
    const start = this.#pos;
    let pos = start + 1;
    while (pos < this.#end) {
      const code = this.#text.charCodeAt(pos);
      if (code < 128 && SPECIAL[code] === 1) break;
      pos += 1;
    }
    this.#pos = pos;
    return this.#text.slice(start, pos);
  }

  #stopsHere(code: number, stop: StopMode): boolean {
    if (code === PIPE) return stop === 'option';
    if (code === CLOSE_BRACE) return stop !== 'top';
    return stop === 'wrapper' && code === DOLLAR && this.#next() === DOLLAR;
  }

  /** Reads the construct at a special character: a node, or the text it stands for. */
  #special(code: number): TemplateNode | string {
    const next = this.#next();
    if (code === OPEN_BRACE) return this.#variant();
    if (code === DOLLAR && next === OPEN_BRACE) return this.#variable();
    if (code === PERCENT && next === OPEN_BRACE) return this.#wrap();
    if (code === UNDERSCORE && next === UNDERSCORE) {
      const wildcard = this.#wildcard();
      if (wildcard !== null) return wildcard;
      this.#pos += 2;
      return '__';
    }
    if (code === HASH) {
      this.#skipComment();
      return '';
    }
    if (code === BACKSLASH && ESCAPABLE.has(this.#text.charAt(this.#pos + 1))) {
      this.#pos += 2;
      return this.#text.charAt(this.#pos - 1);
    }
    this.#pos += 1;
    return this.#text.charAt(this.#pos - 1);
  }

  #variant(): VariantNode {
    const start = this.#enter();
    this.#pos += 1;
    this.#skipWhitespace();
    const sampler = this.#samplerMark();
    const bound = this.#bound(start);
    const options: VariantOption[] = [];
    for (;;) {
      this.#skipWhitespace();
      const weight = this.#weight();
      const bodyStart = this.#pos;
      const body = this.#sequence('option');
      options.push({ weight, body, raw: this.#text.slice(bodyStart, this.#pos) });
      if (this.#pos >= this.#end) {
        throw this.#error(
          start,
          "'{' is never closed: close it with '}', or write '\\{' for a brace",
        );
      }
      this.#pos += 1;
      if (this.#text.charCodeAt(this.#pos - 1) === CLOSE_BRACE) break;
    }
    this.#depth -= 1;
    const only = options.length === 1 ? options[0]?.body : undefined;
    return {
      type: 'variant',
      source: this.#origin.source,
      position: start,
      options,
      cumulative: cumulativeWeights(options),
      min: bound?.min ?? 1,
      max: bound?.max ?? 1,
      separator: bound?.separator ?? ',',
      sampler,
      wildcardOnly: only?.type === 'wildcard' ? only : null,
    };
  }

  /** `2$$`, `1-3$$`, `-2$$`, `1-$$`, each optionally followed by `separator$$`. */
  #bound(start: number): { min: number; max: number; separator: string } | null {
    if (!startsNumber(this.#text.charCodeAt(this.#pos))) return null;
    BOUND.lastIndex = this.#pos;
    const match = BOUND.exec(this.#text);
    if (match === null || (match[1] === undefined && match[3] === undefined)) return null;
    if (BOUND.lastIndex > this.#end) return null;
    this.#pos = BOUND.lastIndex;
    const low = match[1] === undefined ? undefined : Number(match[1]);
    const high = match[3] === undefined ? undefined : Number(match[3]);
    const ranged = match[2] !== undefined;
    const min = low ?? 1;
    const max = ranged ? (high ?? Number.POSITIVE_INFINITY) : min;
    if (min > max) {
      throw this.#error(start, `the count range ${min}-${max} has its lower bound above its upper`);
    }
    SEPARATOR.lastIndex = this.#pos;
    const separator = SEPARATOR.exec(this.#text);
    if (separator === null || SEPARATOR.lastIndex > this.#end) return { min, max, separator: ',' };
    this.#pos = SEPARATOR.lastIndex;
    return { min, max, separator: separator[1] ?? ',' };
  }

  #weight(): number {
    if (!startsNumber(this.#text.charCodeAt(this.#pos))) return 1;
    WEIGHT.lastIndex = this.#pos;
    const match = WEIGHT.exec(this.#text);
    if (match === null || WEIGHT.lastIndex > this.#end) return 1;
    const weight = Number(match[1]);
    if (!(weight >= 0) || !Number.isFinite(weight)) {
      throw this.#error(this.#pos, `the weight ${match[1]} is not allowed: weights are 0 or more`);
    }
    this.#pos = WEIGHT.lastIndex;
    this.#skipWhitespace();
    return weight;
  }

  #variable(): VariableNode | AssignmentNode {
    const start = this.#enter();
    this.#pos += 2;
    this.#skipWhitespace();
    const name = this.#variableName(start);
    this.#skipWhitespace();
    const code = this.#text.charCodeAt(this.#pos);
    let node: VariableNode | AssignmentNode;
    if (code === CLOSE_BRACE || code === COLON) {
      const fallback = code === COLON ? this.#closedValue(start, 1) : null;
      if (fallback === null) this.#pos += 1;
      const raw = this.#text.slice(start, this.#pos);
      node = {
        type: 'variable',
        source: this.#origin.source,
        position: start,
        name,
        fallback,
        raw,
      };
    } else if (code === EQUALS || (code === QUESTION && this.#next() === EQUALS)) {
      const keepExisting = code === QUESTION;
      const immediate = this.#text.charCodeAt(this.#pos + (keepExisting ? 2 : 1)) === BANG;
      const value = this.#closedValue(start, (keepExisting ? 2 : 1) + (immediate ? 1 : 0));
      node = {
        type: 'assignment',
        source: this.#origin.source,
        position: start,
        name,
        value,
        immediate,
        keepExisting,
      };
    } else {
      throw this.#error(this.#pos, `expected '}', ':' or '=' after the variable name '${name}'`);
    }
    this.#depth -= 1;
    return node;
  }

  #variableName(start: number): string {
    VARIABLE_NAME.lastIndex = this.#pos;
    const match = VARIABLE_NAME.exec(this.#text);
    if (match === null || VARIABLE_NAME.lastIndex > this.#end) {
      throw this.#error(
        start,
        "expected a variable name (letters, digits, '_' or '-') after '${'; write '\\$' for a " +
          'dollar sign',
      );
    }
    this.#pos = VARIABLE_NAME.lastIndex;
    return match[0];
  }

  /** Skips `skip` marker characters, then reads a value up to the `}` that closes `start`. */
  #closedValue(start: number, skip: number): TemplateNode {
    this.#pos += skip;
    this.#skipWhitespace();
    const value = trimTrailing(this.#sequence('close'));
    this.#expectClose(
      start,
      "'${' is never closed: close it with '}', or write '\\$' for a dollar",
    );
    return value;
  }

  #wrap(): TemplateNode {
    const start = this.#enter();
    this.#pos += 2;
    this.#skipWhitespace();
    const wrapper = this.#sequence('wrapper');
    if (this.#text.charCodeAt(this.#pos) !== DOLLAR) {
      throw this.#error(start, "a wrap '%{' needs '$$' between the wrapper and the wrapped text");
    }
    this.#pos += 2;
    this.#skipWhitespace();
    const inner = this.#sequence('close');
    this.#expectClose(
      start,
      "'%{' is never closed: close it with '}', or write '\\%' for a percent",
    );
    this.#depth -= 1;
    return { type: 'wrap', source: this.#origin.source, position: start, wrapper, inner };
  }

  /** Reads `__name__` at the cursor; null (cursor unmoved) when it does not close into a name. */
  #wildcard(): WildcardNode | null {
    const start = this.#enter();
    this.#pos += 2;
    const sampler = this.#samplerMark();
    const path = this.#wildcardPath();
    const parameters = path === null ? null : this.#wildcardParameters();
    if (path === null || parameters === null || !this.#at('__')) {
      this.#pos = start;
      this.#depth -= 1;
      return null;
    }
    this.#pos += 2;
    this.#depth -= 1;
    return {
      type: 'wildcard',
      source: this.#origin.source,
      position: start,
      staticPath: path.type === 'text' ? path.text : null,
      path,
      sampler,
      parameters,
      raw: this.#text.slice(start, this.#pos),
    };
  }

  /** The name of a wildcard: text, variables and variants up to `__` or `(`. */
  #wildcardPath(): TemplateNode | null {
    const parts: TemplateNode[] = [];
    let text = '';
    while (this.#pos < this.#end && !this.#at('__')) {
      const char = this.#text.charAt(this.#pos);
      if (char === '(') break;
      if (char === '{' || this.#at('${')) {
        if (text.length > 0) parts.push({ type: 'text', text });
        text = '';
        const node = char === '{' ? this.#variant() : this.#variable();
        if (node.type === 'assignment') return null;
        parts.push(node);
      } else {
        const run = this.#nameRun();
        if (run === '') return null;
        text += run;
      }
    }
    if (text.length > 0) parts.push({ type: 'text', text });
    const first = parts[0];
    const last = parts[parts.length - 1];
    // `__ a __` or `__` ... `__` across words is text, as in the A1111 wildcards extension.
    if (first === undefined || last === undefined) return null;
    if (first.type === 'text' && /^\s/.test(first.text)) return null;
    if (last.type === 'text' && /\s$/.test(last.text)) return null;
    return buildSequence(parts, []);
  }

  /** The name characters at the cursor, up to (not including) a closing `__`. */
  #nameRun(): string {
    NAME_RUN.lastIndex = this.#pos;
    const match = NAME_RUN.exec(this.#text);
    if (match === null) return '';
    const end = Math.min(this.#end, NAME_RUN.lastIndex);
    let run = this.#text.slice(this.#pos, end);
    const close = run.indexOf('__');
    if (close >= 0) run = run.slice(0, close);
    this.#pos += run.length;
    return run;
  }

  /** `(name=value, other=value)`; an empty list when there is none, null when malformed. */
  #wildcardParameters(): WildcardParameter[] | null {
    if (this.#text.charCodeAt(this.#pos) !== OPEN_PAREN) return [];
    const close = this.#text.indexOf(')', this.#pos);
    const newline = this.#text.indexOf('\n', this.#pos);
    if (close < 0 || close >= this.#end || (newline >= 0 && newline < close)) return null;
    const parameters: WildcardParameter[] = [];
    let pairStart = this.#pos + 1;
    while (pairStart <= close) {
      let pairEnd = this.#text.indexOf(',', pairStart);
      if (pairEnd < 0 || pairEnd > close) pairEnd = close;
      parameters.push(this.#parameter(pairStart, pairEnd));
      pairStart = pairEnd + 1;
    }
    this.#pos = close + 1;
    return parameters;
  }

  #parameter(start: number, end: number): WildcardParameter {
    const pair = this.#text.slice(start, end);
    const equals = pair.indexOf('=');
    const name = (equals < 0 ? pair : pair.slice(0, equals)).trim();
    if (equals < 0 || !/^[A-Za-z_-][\w-]*$/.test(name)) {
      throw this.#error(start, `wildcard parameters are written name=value; got '${pair.trim()}'`);
    }
    const savedEnd = this.#end;
    this.#pos = start + equals + 1;
    this.#end = end;
    this.#skipWhitespace();
    const value = trimTrailing(this.#sequence('top'));
    this.#end = savedEnd;
    return { name, value };
  }

  #samplerMark(): SamplerOverride | null {
    const sampler = SAMPLER_MARKS[this.#text.charAt(this.#pos)] ?? null;
    if (sampler !== null) {
      this.#pos += 1;
      if (sampler === 'cyclical') this.#usesCycles = true;
    }
    return sampler;
  }

  #skipComment(): void {
    const newline = this.#text.indexOf('\n', this.#pos);
    this.#pos = newline < 0 || newline > this.#end ? this.#end : newline;
  }

  #skipWhitespace(): void {
    WHITESPACE.lastIndex = this.#pos;
    WHITESPACE.exec(this.#text);
    this.#pos = Math.min(WHITESPACE.lastIndex, this.#end);
  }

  #expectClose(start: number, problem: string): void {
    if (this.#pos >= this.#end || this.#text.charCodeAt(this.#pos) !== CLOSE_BRACE) {
      throw this.#error(start, problem);
    }
    this.#pos += 1;
  }

  /** Counts one more level of nesting, refusing to go deeper than {@link MAX_NESTING}. */
  #enter(): number {
    this.#depth += 1;
    if (this.#depth > MAX_NESTING) {
      throw this.#error(this.#pos, `constructs are nested more than ${MAX_NESTING} levels deep`);
    }
    return this.#pos;
  }

  #at(token: string): boolean {
    return this.#text.startsWith(token, this.#pos) && this.#pos + token.length <= this.#end;
  }

  #next(): number {
    return this.#pos + 1 < this.#end ? this.#text.charCodeAt(this.#pos + 1) : -1;
  }

  #error(position: number, problem: string): WildcardError {
    return syntaxError(this.#text, this.#origin, position, problem);
  }
}

/** Whether a character can start a count or a weight (a digit, `.`, `+` or `-`). */
function startsNumber(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || code === 0x2e || code === 0x2b || code === 0x2d;
}

/** One node for a list of parts: the part itself when alone, the empty text when none. */
function buildSequence(parts: TemplateNode[], assignments: AssignmentNode[]): TemplateNode {
  if (assignments.length === 0) {
    if (parts.length === 0) return EMPTY_TEXT;
    if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  }
  return { type: 'sequence', parts, assignments };
}

/** Drops whitespace at the end of a value (`${x=red }` is `red`). */
function trimTrailing(node: TemplateNode): TemplateNode {
  if (node.type === 'text') return { type: 'text', text: node.text.trimEnd() };
  if (node.type !== 'sequence') return node;
  const last = node.parts[node.parts.length - 1];
  if (last?.type !== 'text') return node;
  const parts = [...node.parts.slice(0, -1), { type: 'text' as const, text: last.text.trimEnd() }];
  return { ...node, parts };
}

function cumulativeWeights(options: readonly VariantOption[]): Float64Array | null {
  if (options.every((option) => option.weight === 1)) return null;
  const cumulative = new Float64Array(options.length);
  let total = 0;
  options.forEach((option, index) => {
    total += option.weight;
    cumulative[index] = total;
  });
  return cumulative;
}
