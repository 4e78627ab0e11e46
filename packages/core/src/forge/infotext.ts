/**
 * Infotext: the `parameters` text Forge stores in every PNG it makes and returns in `info`.
 *
 * {@link formatInfotext} writes it the way Forge's `create_infotext` does, and
 * {@link parseInfotext} reads it the way Forge's `parse_generation_parameters` finds the
 * parameter line, so text written by Forge, AUTOMATIC1111 or this module reads back the same.
 * The layout (reference: forge-api.md §8):
 *
 * ```
 * <prompt, any number of lines>
 * Negative prompt: <negative prompt, any number of lines>    (only when not empty)
 * Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7.0, ...
 * ```
 */
import { ForgeToolError } from '../errors.js';
import type { ForgeToolErrorOptions } from '../errors.js';

/** Thrown when parameters cannot be written as infotext; its code is `FT_ERR_INFOTEXT_INVALID`. */
export class InfotextError extends ForgeToolError {
  constructor(message: string, options: ForgeToolErrorOptions = {}) {
    super('FT_ERR_INFOTEXT_INVALID', message, options);
  }
}

/**
 * A number that Forge holds as a Python float, so it is written with a decimal point
 * (`7.0`, not `7`). Make one with {@link infotextFloat}.
 */
export interface InfotextFloat {
  readonly kind: 'float';
  readonly value: number;
}

/**
 * Marks a number as a float for {@link formatInfotext}: `infotextFloat(7)` is written `7.0`.
 * A plain `number` is written as an integer when it has no fraction and as a float otherwise.
 *
 * @example
 * formatInfotext({ prompt: 'a cat', parameters: { Steps: 20, 'CFG scale': infotextFloat(7) } });
 */
export function infotextFloat(value: number): InfotextFloat {
  return Object.freeze({ kind: 'float', value });
}

/**
 * One parameter value. `null` (and `undefined`) are left out of the text, as Forge leaves out
 * None; booleans are written `True`/`False`; numbers follow {@link infotextFloat}.
 */
export type InfotextValue = string | number | boolean | InfotextFloat | null;

/** What {@link formatInfotext} writes. */
export interface InfotextParameters {
  /** The positive prompt, written first and verbatim (line breaks included). */
  prompt: string;
  /** The negative prompt; its `Negative prompt:` line is left out when this is empty. */
  negativePrompt?: string | null | undefined;
  /**
   * The parameter line, keyed by Forge's names (`Steps`, `Sampler`, `Schedule type`,
   * `CFG scale`, ...). Keys Forge knows are written in Forge's order whatever their order here;
   * other keys follow them in this object's order, before `Version`, `User`,
   * `Diffusion in Low Bits` and the `Module N` keys.
   */
  parameters: Readonly<Record<string, InfotextValue | undefined>>;
}

/** What {@link parseInfotext} found in an infotext. Helpers are `undefined` when absent or malformed. */
export interface ParsedInfotext {
  /** The positive prompt, verbatim. */
  readonly prompt: string;
  /** The negative prompt, verbatim, or `''` when the text has none. */
  readonly negativePrompt: string;
  /**
   * Every `key: value` of the parameter line, in order, values as strings with quoted values
   * decoded. A repeated key keeps its first position and its last value, as a Python dict does.
   * The object has no prototype, so a key such as `constructor` never reads an inherited value.
   * JavaScript lists integer-like keys (`12`) before the others; Forge writes no such key.
   */
  readonly parameters: Readonly<Record<string, string>>;
  readonly steps: number | undefined;
  readonly sampler: string | undefined;
  readonly scheduleType: string | undefined;
  readonly cfgScale: number | undefined;
  readonly distilledCfgScale: number | undefined;
  readonly seed: number | undefined;
  /** From `Size: <width>x<height>`. */
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly model: string | undefined;
  readonly modelHash: string | undefined;
  readonly denoisingStrength: number | undefined;
  /** From `Lora hashes: "name: hash, name2: hash2"`; empty when there is none. */
  readonly loraHashes: Readonly<Record<string, string>>;
  /** The `Module 1`, `Module 2`, ... values (VAE and text encoders), by number. */
  readonly modules: readonly string[];
  readonly version: string | undefined;
}

const NEGATIVE_PROMPT_MARKER = 'Negative prompt:';

/** The characters Python's `str.strip()` and `\s` treat as white space. */
const PY_SPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP_PATTERN = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');
const PY_LEADING_SPACE_PATTERN = new RegExp(`^[${PY_SPACE}]+`, 'u');

/**
 * Forge's parameter pattern, `\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)`, with
 * Python's Unicode `\w`, `\s` and `.` spelled out, because JavaScript's are narrower or wider.
 */
const PARAMETER_PATTERN = new RegExp(
  `[${PY_SPACE}]*([\\p{L}\\p{N}_][\\p{L}\\p{N}_ \\-/]+):[${PY_SPACE}]*("(?:\\\\[^\\n]|[^\\\\"])+"|[^,]*)(?:,|$)`,
  'gu',
);

/** Forge counts the last line as parameters only when it holds at least this many matches. */
const MIN_PARAMETER_MATCHES = 3;

/** Stands for every `Hires Module <n>` key in the known keys; they sort by number there. */
const HIRES_MODULE_SLOT = 'Hires Module <n>';

/** Known keys, in the order Forge's `create_infotext` puts them (forge-api.md §8.2). */
const LEADING_KEYS = [
  'Steps',
  'Sampler',
  'Schedule type',
  'CFG scale',
  'Distilled CFG Scale',
  'Image CFG scale',
  'Seed',
  'Face restoration',
  'Size',
  'Model hash',
  'Model',
  'FP8 weight',
  'Cache FP16 weight for LoRA',
  'Variation seed',
  'Variation seed strength',
  'Seed resize from',
  'Denoising strength',
  'Conditional mask weight',
  'Clip skip',
  'ENSD',
  'Token merging ratio',
  'Token merging ratio hr',
  'Init image hash',
  'RNG',
  'Tiling',
  HIRES_MODULE_SLOT,
  'Hires sampler',
  'Hires prompt',
  'Hires negative prompt',
  'Hires CFG Scale',
  'Hires Distilled CFG Scale',
  'Hires schedule type',
  'Hires upscale',
  'Hires resize',
  'Hires steps',
  'Hires upscaler',
  'Mask blur',
  'Inpaint area',
  'Masked area padding',
  'Masked content',
  'Mask mode',
  'Noise multiplier',
  'Lora hashes',
  'Schedule max sigma',
  'Schedule min sigma',
  'Schedule rho',
  'Noise Schedule',
  'VAE Decoder',
  'VAE Encoder',
];
const TRAILING_KEYS = ['Version', 'User', 'Diffusion in Low Bits'];
const LEADING_KEY_RANK = new Map(LEADING_KEYS.map((key, index) => [key, index]));
const TRAILING_KEY_RANK = new Map(TRAILING_KEYS.map((key, index) => [key, index]));
const HIRES_MODULE_RANK = LEADING_KEYS.indexOf(HIRES_MODULE_SLOT);
const HIRES_MODULE_PATTERN = /^Hires Module (\d+)$/;
const MODULE_PATTERN = /^Module (\d+)$/;

/** Where a key goes: leading known keys, then unknown keys, then trailing keys, then modules. */
type KeyRank = readonly [group: number, index: number, moduleNumber: number];

/**
 * Writes generation parameters as Forge writes its infotext: the prompt, a `Negative prompt:`
 * line when there is a negative prompt, then `Key: value` pairs joined by `, `, the whole text
 * trimmed. A value whose text holds `,`, `:` or a line break is written as a JSON string
 * (non-ASCII kept as is); other values as Python's `str()` would write them. It writes what it
 * is given: Forge's own omissions (such as `Clip skip` when it is 1) are the caller's to apply.
 *
 * @example
 * formatInfotext({
 *   prompt: 'a cat',
 *   negativePrompt: 'blurry',
 *   parameters: { Steps: 20, Sampler: 'Euler a', 'CFG scale': infotextFloat(7), Seed: 1234 },
 * });
 * // 'a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 1234'
 * @throws {InfotextError} `FT_ERR_INFOTEXT_INVALID` when a key is empty or holds `:`, `,` or a
 *   line break, when a value is not one of the {@link InfotextValue} types, or when the text
 *   holds an unpaired UTF-16 surrogate (it has no UTF-8 form for a PNG chunk).
 */
export function formatInfotext(infotext: InfotextParameters): string {
  const prompt = assertText(infotext.prompt, 'prompt');
  const negativePrompt = assertText(infotext.negativePrompt ?? '', 'negativePrompt');

  const negativeLine = negativePrompt === '' ? '' : `\n${NEGATIVE_PROMPT_MARKER} ${negativePrompt}`;
  return pythonStrip(`${prompt}${negativeLine}\n${formatParameterLine(infotext)}`);
}

function formatParameterLine({ parameters }: InfotextParameters): string {
  const keys = Object.keys(parameters);
  keys.forEach(assertValidKey);

  return orderKeys(keys)
    .flatMap((key) => {
      const value = parameters[key];
      return value == null ? [] : [formatPair(key, value)];
    })
    .join(', ');
}

function assertValidKey(key: string): void {
  assertText(key, 'parameter key');
  if (key.trim() === '' || /[:,\n\r]/.test(key)) {
    throw new InfotextError(
      `infotext parameter key ${JSON.stringify(key)} is not allowed: a key must be non-empty ` +
        'and must not contain ":", "," or a line break',
    );
  }
}

/** A string with no unpaired UTF-16 surrogate, which would have no UTF-8 form in a PNG chunk. */
function assertText(value: unknown, name: string): string {
  if (typeof value !== 'string') {
    throw new InfotextError(`infotext ${name} must be a string, got ${describeType(value)}`);
  }
  if (/[\ud800-\udfff]/u.test(value)) {
    throw new InfotextError(
      `infotext ${name} holds an unpaired UTF-16 surrogate, which has no UTF-8 form`,
    );
  }
  return value;
}

function orderKeys(keys: readonly string[]): string[] {
  const ranked = keys.map((key, position) => ({ key, rank: rankKey(key, position) }));
  ranked.sort((left, right) => compareRanks(left.rank, right.rank));
  return ranked.map(({ key }) => key);
}

function rankKey(key: string, position: number): KeyRank {
  const leading = LEADING_KEY_RANK.get(key);
  if (leading !== undefined) return [0, leading, 0];

  const hiresModule = HIRES_MODULE_PATTERN.exec(key);
  if (hiresModule) return [0, HIRES_MODULE_RANK, Number(hiresModule[1])];

  const trailing = TRAILING_KEY_RANK.get(key);
  if (trailing !== undefined) return [2, trailing, 0];

  const module = MODULE_PATTERN.exec(key);
  if (module) return [3, 0, Number(module[1])];

  return [1, position, 0];
}

function compareRanks(left: KeyRank, right: KeyRank): number {
  return left[0] - right[0] || left[1] - right[1] || left[2] - right[2];
}

function formatPair(key: string, value: Exclude<InfotextValue, null>): string {
  // Forge writes a bare key when its value is that same string.
  if (value === key) return key;
  return `${key}: ${quoteValue(key, value)}`;
}

/** Forge's `quote()`: JSON for text that would break the line apart, Python `str()` otherwise. */
function quoteValue(key: string, value: Exclude<InfotextValue, null>): string {
  const text = pythonStr(key, value);
  return /[,:\n]/.test(text) ? JSON.stringify(text) : text;
}

function pythonStr(key: string, value: unknown): string {
  if (typeof value === 'string') return assertText(value, `parameter ${JSON.stringify(key)}`);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return formatPythonNumber(value);
  if (isInfotextFloat(value)) return formatPythonFloat(value.value);

  throw new InfotextError(
    `infotext parameter ${JSON.stringify(key)} has a value of type ${describeType(value)}; ` +
      'allowed: string, number, boolean, infotextFloat(n), null or undefined',
  );
}

function isInfotextFloat(value: unknown): value is InfotextFloat {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Partial<InfotextFloat>).kind === 'float' &&
    typeof (value as Partial<InfotextFloat>).value === 'number'
  );
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function formatPythonNumber(value: number): string {
  // BigInt keeps large integers out of exponent notation, as Python's int does.
  return Number.isInteger(value) ? BigInt(value).toString() : formatPythonFloat(value);
}

/**
 * Python's `repr(float)`: the shortest digits that read back to the same number (JavaScript
 * finds the same digits), in exponent form when the decimal point would sit more than 16 places
 * right or 4 places left of the first digit, and with `.0` on whole numbers.
 */
function formatPythonFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';

  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const [mantissa = '0', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const pointPosition = Number(exponentText) + 1;
  const useExponent = pointPosition <= -4 || pointPosition > 16;
  return (
    sign +
    (useExponent ? exponentForm(digits, pointPosition - 1) : fixedForm(digits, pointPosition))
  );
}

function exponentForm(digits: string, exponent: number): string {
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
  const exponentSign = exponent < 0 ? '-' : '+';
  return `${digits.slice(0, 1)}${fraction}e${exponentSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

function fixedForm(digits: string, pointPosition: number): string {
  if (pointPosition <= 0) return `0.${'0'.repeat(-pointPosition)}${digits}`;
  if (pointPosition >= digits.length)
    return `${digits}${'0'.repeat(pointPosition - digits.length)}.0`;
  return `${digits.slice(0, pointPosition)}.${digits.slice(pointPosition)}`;
}

function pythonStrip(text: string): string {
  return text.replace(PY_STRIP_PATTERN, '');
}

/**
 * Reads an infotext from Forge, AUTOMATIC1111 or {@link formatInfotext}. The last line is the
 * parameter line only when Forge's pattern finds at least three `key: value` pairs in it;
 * otherwise the whole text is prompt. Prompts are returned verbatim, line breaks included.
 * Unlike Forge's `png-info`, no default values are added and `Size` stays one value.
 *
 * @example
 * parseInfotext('a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Size: 512x768');
 * // { prompt: 'a cat', negativePrompt: 'blurry', steps: 20, width: 512, height: 768, ... }
 * @throws {InfotextError} `FT_ERR_INFOTEXT_INVALID` when `text` is not a string.
 */
export function parseInfotext(text: string): ParsedInfotext {
  if (typeof text !== 'string') {
    throw new InfotextError(`infotext text must be a string, got ${describeType(text)}`);
  }
  const lines = pythonStrip(text).split('\n');
  const lastLine = lines.at(-1) ?? '';
  const matches = [...lastLine.matchAll(PARAMETER_PATTERN)];
  const hasParameterLine = matches.length >= MIN_PARAMETER_MATCHES;

  const prompts = splitPrompts(hasParameterLine ? lines.slice(0, -1) : lines);
  const values = hasParameterLine ? collectValues(matches) : new Map<string, string>();
  return { ...prompts, parameters: toRecord(values), ...readCommonKeys(values) };
}

/**
 * Everything up to the first line that starts with `Negative prompt:` (leading white space
 * allowed, as Forge strips each line) is the prompt; that line's rest and all later lines are
 * the negative prompt. The single space Forge writes after the marker is dropped.
 */
function splitPrompts(lines: readonly string[]): { prompt: string; negativePrompt: string } {
  const markerIndex = lines.findIndex((line) =>
    line.replace(PY_LEADING_SPACE_PATTERN, '').startsWith(NEGATIVE_PROMPT_MARKER),
  );
  if (markerIndex === -1) return { prompt: lines.join('\n'), negativePrompt: '' };

  const markerLine = (lines[markerIndex] ?? '').replace(PY_LEADING_SPACE_PATTERN, '');
  const firstNegativeLine = markerLine.slice(NEGATIVE_PROMPT_MARKER.length).replace(/^ /, '');
  return {
    prompt: lines.slice(0, markerIndex).join('\n'),
    negativePrompt: [firstNegativeLine, ...lines.slice(markerIndex + 1)].join('\n'),
  };
}

function collectValues(matches: readonly RegExpMatchArray[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const [, key = '', rawValue = ''] of matches) values.set(key, unquote(rawValue));
  return values;
}

/** Forge's `unquote()`: a value in double quotes is read as JSON when it is valid JSON. */
function unquote(rawValue: string): string {
  if (rawValue.length < 2 || !rawValue.startsWith('"') || !rawValue.endsWith('"')) return rawValue;
  try {
    const decoded: unknown = JSON.parse(rawValue);
    return typeof decoded === 'string' ? decoded : rawValue;
  } catch {
    return rawValue;
  }
}

function toRecord(values: ReadonlyMap<string, string>): Record<string, string> {
  const record: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of values) record[key] = value;
  return record;
}

type CommonKeys = Omit<ParsedInfotext, 'prompt' | 'negativePrompt' | 'parameters'>;

function readCommonKeys(values: ReadonlyMap<string, string>): CommonKeys {
  const size = /^(\d+)x(\d+)$/.exec(values.get('Size')?.trim() ?? '');
  return {
    steps: parseInteger(values.get('Steps')),
    sampler: values.get('Sampler'),
    scheduleType: values.get('Schedule type'),
    cfgScale: parseDecimal(values.get('CFG scale')),
    distilledCfgScale: parseDecimal(values.get('Distilled CFG Scale')),
    seed: parseInteger(values.get('Seed')),
    width: parseInteger(size?.[1]),
    height: parseInteger(size?.[2]),
    model: values.get('Model'),
    modelHash: values.get('Model hash'),
    denoisingStrength: parseDecimal(values.get('Denoising strength')),
    loraHashes: parseLoraHashes(values.get('Lora hashes')),
    modules: readModules(values),
    version: values.get('Version'),
  };
}

function parseInteger(text: string | undefined): number | undefined {
  const trimmed = text?.trim() ?? '';
  if (!/^[+-]?\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? value : undefined;
}

function parseDecimal(text: string | undefined): number | undefined {
  const trimmed = text?.trim() ?? '';
  return /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(trimmed)
    ? Number(trimmed)
    : undefined;
}

/** `name: hash, name2: hash2`, split the way Forge's LoRA extension splits it. */
function parseLoraHashes(text: string | undefined): Record<string, string> {
  const hashes: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const item of text?.split(',') ?? []) {
    const separator = item.indexOf(':');
    const name = item.slice(0, separator).trim();
    if (separator === -1 || name === '') continue;
    hashes[name] = item.slice(separator + 1).trim();
  }
  return hashes;
}

function readModules(values: ReadonlyMap<string, string>): string[] {
  return [...values]
    .flatMap(([key, value]) => {
      const match = MODULE_PATTERN.exec(key);
      return match ? [{ number: Number(match[1]), value }] : [];
    })
    .sort((left, right) => left.number - right.number)
    .map(({ value }) => value);
}
