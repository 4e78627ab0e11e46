/**
 * Field builders for the generation request schema. Each field carries one rule sentence
 * (`a multiple of 8 from 64 to 2048`) used for every way a value can break it, so a client gets
 * `must be <rule>, got <value>` whether it sent a string, a fraction or a number out of range.
 */
import { z } from 'zod';
import { decodeBase64 } from '../forge/generation-schemas.js';
import { isJobId } from './job-id.js';

/** A short, safe description of a value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return describeString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function describeString(value: string): string {
  if (value === '') return 'an empty string';
  if (value.length > 40) return `a string of ${value.length} characters`;
  return JSON.stringify(value);
}

/** The error option of a field whose every failure is reported as `must be <rule>, got ...`. */
export function ruleError(rule: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => `must be ${rule}, got ${describeValue(issue.input)}` };
}

/** An integer from `min` to `max`, optionally a multiple of `step`. */
export function integerIn(min: number, max: number, step = 1): z.ZodType<number, number> {
  const rule =
    step === 1 ? `an integer from ${min} to ${max}` : `a multiple of ${step} from ${min} to ${max}`;
  const valid = (value: number): boolean =>
    Number.isInteger(value) && value >= min && value <= max && value % step === 0;
  return z.number(ruleError(rule)).refine(valid, ruleError(rule));
}

/** A finite number from `min` to `max`. */
export function numberIn(min: number, max: number): z.ZodType<number, number> {
  const rule = `a number from ${min} to ${max}`;
  return z.number(ruleError(rule)).refine((value) => value >= min && value <= max, ruleError(rule));
}

/** A string of `min` to `max` characters, as sent (no trimming). */
export function textOf(min: number, max: number, what = 'a string'): z.ZodType<string, string> {
  const rule = `${what} of ${min} to ${max} characters`;
  return z
    .string(ruleError(rule))
    .refine((text) => text.length >= min && text.length <= max, lengthError(rule));
}

/** A string that is trimmed first, then must have `min` to `max` characters. */
export function trimmedTextOf(min: number, max: number): z.ZodType<string, string> {
  const rule = `a string of ${min} to ${max} characters after trimming`;
  return z
    .string(ruleError(rule))
    .trim()
    .refine((text) => text.length >= min && text.length <= max, lengthError(rule));
}

function lengthError(rule: string): { error: (issue: { input?: unknown }) => string } {
  return {
    error: (issue) => {
      const length = typeof issue.input === 'string' ? issue.input.length : 0;
      return `must be ${rule}, got ${length === 0 ? 'an empty string' : `${length} characters`}`;
    },
  };
}

/** A name as Forge lists it (sampler, checkpoint, style, ...): sent unchanged, so not trimmed. */
export function nameField(): z.ZodType<string, string> {
  return textOf(1, 300, 'a name');
}

/** A list of names with at most `maxItems` entries. */
export function nameList(maxItems: number): z.ZodType<string[], string[]> {
  const rule = `a list of at most ${maxItems} names`;
  return z
    .array(nameField(), ruleError(rule))
    .refine((names) => names.length <= maxItems, ruleError(rule));
}

/** true or false. */
export function flag(): z.ZodBoolean {
  return z.boolean(ruleError('true or false'));
}

/** One of the listed strings. */
export function oneOf<const Value extends string>(values: readonly [Value, ...Value[]]) {
  const rule = `one of ${values.map((value) => `'${value}'`).join(', ')}`;
  return z.enum(values, ruleError(rule));
}

/** Image data: base64, with or without a `data:image/...;base64,` prefix. */
export function base64Image(): z.ZodType<string, string> {
  const rule = 'base64 image data (a data: URL is allowed)';
  return z
    .string(ruleError(rule))
    .refine((text) => (decodeBase64(text)?.length ?? 0) > 0, ruleError(rule));
}

/** A reference to an image of an earlier job: `{ job_id, index }`. */
export function jobImageReference() {
  return z.strictObject(
    {
      /** The earlier job's id. */
      job_id: z
        .string(ruleError('a job id (job_ and 26 characters)'))
        .refine(isJobId, ruleError('a job id (job_ and 26 characters)')),
      /** Which of its images, from 0. */
      index: integerIn(0, 9_999),
    },
    objectError('an object { job_id, index }'),
  );
}

/**
 * The error option of an object field: a wrong type gets the rule sentence; other object-level
 * problems (unknown keys) keep their default and are worded by the issue formatter.
 */
export function objectError(rule: string) {
  return {
    error: (issue: { code?: string; input?: unknown }) =>
      issue.code === 'invalid_type'
        ? `must be ${rule}, got ${describeValue(issue.input)}`
        : undefined,
  };
}

/** An http(s) URL of at most 2000 characters. */
export function httpUrl(): z.ZodType<string, string> {
  const rule = 'an http or https URL';
  return z.string(ruleError(rule)).refine(isHttpUrl, ruleError(rule));
}

function isHttpUrl(text: string): boolean {
  if (text.length > 2_000 || !URL.canParse(text)) return false;
  const { protocol, hostname } = new URL(text);
  return (protocol === 'http:' || protocol === 'https:') && hostname !== '';
}

/**
 * The path of the first value inside `value` that JSON cannot carry faithfully (undefined, a
 * function, a non-finite number, a class instance such as Date); undefined when there is none.
 */
export function firstNonJsonPath(value: unknown, path = ''): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (Array.isArray(value)) return firstInEntries(value.entries(), path, true);
  if (typeof value !== 'object') return path;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return path;
  return firstInEntries(Object.entries(value), path, false);
}

function firstInEntries(
  entries: Iterable<[string | number, unknown]>,
  path: string,
  isArray: boolean,
): string | undefined {
  for (const [key, item] of entries) {
    const found = firstNonJsonPath(item, isArray ? `${path}[${key}]` : `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
