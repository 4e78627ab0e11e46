/**
 * Request validation with pydantic 2.8's lax rules and error records, as FastAPI 0.104 runs it
 * on Forge's request models (`validate_python`, so Python-mode lax coercion).
 *
 * Every field is checked and every failure collected, in field order, the way pydantic reports
 * them; the caller wraps the list as `{"detail": [...]}` with status 422.
 */
import { isPyFloat, pyFloat } from '../python-format.js';

/** One element of a FastAPI 422 `detail` list, keys in pydantic's order. */
export interface ValidationIssue {
  readonly type: string;
  readonly loc: ReadonlyArray<string | number>;
  readonly msg: string;
  readonly input: unknown;
  readonly ctx?: Readonly<Record<string, unknown>>;
  readonly url?: string;
}

/** The Python type of a model field. */
export type FieldType =
  | { readonly kind: 'int' | 'float' | 'bool' | 'str' | 'dict' | 'any' }
  | { readonly kind: 'list'; readonly items?: FieldType }
  | { readonly kind: 'literal'; readonly values: readonly number[] }
  | { readonly kind: 'model'; readonly model: ModelSpec };

/** A field of a pydantic model. */
export interface FieldSpec {
  /** The field name, which is also its JSON key. */
  readonly name: string;
  /** Its Python type. */
  readonly type: FieldType;
  /** Whether the annotation is `Optional[...]`, so that `null` is accepted. */
  readonly nullable: boolean;
  /** The default; `undefined` marks a required field. Floats are {@link pyFloat}-wrapped. */
  readonly default?: unknown;
  /** `Field(ge=...)`. */
  readonly ge?: number;
  /** `Field(le=...)`. */
  readonly le?: number;
  /** `Field(gt=...)`. */
  readonly gt?: number;
  /** `Field(allow_inf_nan=False)` sets this to false. */
  readonly allowInfNan?: boolean;
}

/** A pydantic model: a title (used in some messages) and its fields in declaration order. */
export interface ModelSpec {
  readonly title: string;
  readonly fields: readonly FieldSpec[];
}

/** The outcome of validating one value: the coerced value, or the issues found. */
export type Validated<Value> =
  | { readonly ok: true; readonly value: Value }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

type Loc = ReadonlyArray<string | number>;

const URL_BASE = 'https://errors.pydantic.dev/2.8/v/';
const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_WORDS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);
const INT_TEXT = /^[+-]?\d+(?:_\d+)*(?:\.0*)?$/;
const FLOAT_TEXT =
  /^[+-]?(?:(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;

/** Builds one pydantic issue record with the documentation URL pydantic 2.8 adds. */
export function issue(
  type: string,
  loc: Loc,
  msg: string,
  input: unknown,
  ctx?: Record<string, unknown>,
): ValidationIssue {
  const base = { type, loc, msg, input };
  return ctx ? { ...base, ctx, url: URL_BASE + type } : { ...base, url: URL_BASE + type };
}

/**
 * Validates a request body against a model, collecting every field error.
 *
 * The result maps every field name to its value: the coerced input, or the default when the
 * key is absent. Unknown keys are ignored, as pydantic's `extra="ignore"` does.
 */
export function validateModel(
  model: ModelSpec,
  input: unknown,
  loc: Loc,
): Validated<Record<string, unknown>> {
  if (!isRecord(input)) {
    const msg = 'Input should be a valid dictionary or object to extract fields from';
    return { ok: false, issues: [issue('model_attributes_type', loc, msg, input)] };
  }
  const value: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  for (const field of model.fields) {
    const fieldLoc = [...loc, field.name];
    if (!Object.hasOwn(input, field.name)) {
      if (field.default === undefined)
        issues.push(issue('missing', fieldLoc, 'Field required', input));
      else value[field.name] = cloneDefault(field.default);
      continue;
    }
    const result = validateField(field, input[field.name], fieldLoc);
    if (result.ok) value[field.name] = result.value;
    else issues.push(...result.issues);
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value };
}

/** Validates one value against a field's annotation and constraints. */
export function validateField(field: FieldSpec, input: unknown, loc: Loc): Validated<unknown> {
  if (input === null && field.nullable) return { ok: true, value: null };
  const typed = validateType(field.type, input, loc);
  if (!typed.ok) return typed;
  const constraint = checkConstraints(field, typed.value, loc, input);
  return constraint ? { ok: false, issues: [constraint] } : typed;
}

function cloneDefault(value: unknown): unknown {
  if (Array.isArray(value)) return [...(value as unknown[])];
  if (isRecord(value) && !isPyFloat(value)) return { ...value };
  return value;
}

/** Whether a value is a JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isPyFloat(value);
}

function validateType(type: FieldType, input: unknown, loc: Loc): Validated<unknown> {
  switch (type.kind) {
    case 'int':
      return one(validateInt(input, loc));
    case 'float':
      return one(validateFloat(input, loc));
    case 'bool':
      return one(validateBool(input, loc));
    case 'str':
      return typeof input === 'string'
        ? { ok: true, value: input }
        : fail(issue('string_type', loc, 'Input should be a valid string', input));
    case 'dict':
      return isRecord(input)
        ? { ok: true, value: input }
        : fail(issue('dict_type', loc, 'Input should be a valid dictionary', input));
    case 'any':
      return { ok: true, value: input };
    case 'list':
      return validateList(type.items, input, loc);
    case 'literal':
      return validateLiteral(type.values, input, loc);
    case 'model':
      return validateModel(type.model, input, loc);
  }
}

type Single = { ok: true; value: unknown } | ValidationIssue;

function one(result: Single): Validated<unknown> {
  return 'ok' in result ? result : fail(result);
}

function fail(single: ValidationIssue): Validated<never> {
  return { ok: false, issues: [single] };
}

function validateInt(input: unknown, loc: Loc): Single {
  if (typeof input === 'boolean') return { ok: true, value: input ? 1 : 0 };
  if (typeof input === 'number') {
    if (!Number.isFinite(input))
      return issue('finite_number', loc, 'Input should be a finite number', input);
    if (!Number.isInteger(input)) {
      const msg = 'Input should be a valid integer, got a number with a fractional part';
      return issue('int_from_float', loc, msg, input);
    }
    return { ok: true, value: input };
  }
  if (typeof input === 'string') {
    const text = input.trim();
    if (!INT_TEXT.test(text)) {
      const msg = 'Input should be a valid integer, unable to parse string as an integer';
      return issue('int_parsing', loc, msg, input);
    }
    return { ok: true, value: Math.trunc(Number(text.replaceAll('_', ''))) };
  }
  return issue('int_type', loc, 'Input should be a valid integer', input);
}

function validateFloat(input: unknown, loc: Loc): Single {
  if (typeof input === 'boolean') return { ok: true, value: pyFloat(input ? 1 : 0) };
  if (typeof input === 'number') return { ok: true, value: pyFloat(input) };
  if (typeof input === 'string') {
    const text = input.trim();
    if (!FLOAT_TEXT.test(text)) {
      const msg = 'Input should be a valid number, unable to parse string as a number';
      return issue('float_parsing', loc, msg, input);
    }
    return { ok: true, value: pyFloat(parsePythonFloat(text)) };
  }
  return issue('float_type', loc, 'Input should be a valid number', input);
}

function parsePythonFloat(text: string): number {
  const lower = text.toLowerCase().replaceAll('_', '');
  const sign = lower.startsWith('-') ? -1 : 1;
  const unsigned = lower.replace(/^[+-]/, '');
  if (unsigned.startsWith('inf')) return sign * Number.POSITIVE_INFINITY;
  if (unsigned === 'nan') return Number.NaN;
  return Number(lower);
}

function validateBool(input: unknown, loc: Loc): Single {
  if (typeof input === 'boolean') return { ok: true, value: input };
  const parsingMsg = 'Input should be a valid boolean, unable to interpret input';
  if (typeof input === 'number') {
    if (input === 0 || input === 1) return { ok: true, value: input === 1 };
    return issue('bool_parsing', loc, parsingMsg, input);
  }
  if (typeof input === 'string') {
    const word = input.toLowerCase();
    if (TRUE_WORDS.has(word)) return { ok: true, value: true };
    if (FALSE_WORDS.has(word)) return { ok: true, value: false };
    return issue('bool_parsing', loc, parsingMsg, input);
  }
  return issue('bool_type', loc, 'Input should be a valid boolean', input);
}

function validateList(items: FieldType | undefined, input: unknown, loc: Loc): Validated<unknown> {
  if (!Array.isArray(input))
    return fail(issue('list_type', loc, 'Input should be a valid list', input));
  if (!items) return { ok: true, value: [...(input as unknown[])] };
  const value: unknown[] = [];
  const issues: ValidationIssue[] = [];
  (input as unknown[]).forEach((item, index) => {
    const result = validateType(items, item, [...loc, index]);
    if (result.ok) value.push(result.value);
    else issues.push(...result.issues);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value };
}

function validateLiteral(values: readonly number[], input: unknown, loc: Loc): Validated<unknown> {
  if (typeof input === 'number' && values.includes(input)) return { ok: true, value: input };
  const expected = literalList(values);
  const msg = `Input should be ${expected}`;
  return fail(issue('literal_error', loc, msg, input, { expected }));
}

function literalList(values: readonly number[]): string {
  const texts = values.map(String);
  if (texts.length <= 1) return texts.join('');
  return `${texts.slice(0, -1).join(', ')} or ${texts.at(-1) ?? ''}`;
}

function checkConstraints(
  field: FieldSpec,
  value: unknown,
  loc: Loc,
  input: unknown,
): ValidationIssue | undefined {
  const number = typeof value === 'number' ? value : Number(value);
  if (typeof value !== 'number' && !(field.type.kind === 'float')) return undefined;
  if (field.allowInfNan === false && !Number.isFinite(number)) {
    return issue('finite_number', loc, 'Input should be a finite number', input);
  }
  if (field.gt !== undefined && !(number > field.gt)) {
    return issue('greater_than', loc, `Input should be greater than ${field.gt}`, input, {
      gt: field.gt,
    });
  }
  if (field.ge !== undefined && !(number >= field.ge)) {
    const msg = `Input should be greater than or equal to ${field.ge}`;
    return issue('greater_than_equal', loc, msg, input, { ge: field.ge });
  }
  if (field.le !== undefined && !(number <= field.le)) {
    const msg = `Input should be less than or equal to ${field.le}`;
    return issue('less_than_equal', loc, msg, input, { le: field.le });
  }
  return undefined;
}
