/**
 * How Forge writes and reads the PNG `parameters` text, the "infotext" (forge-api.md §8):
 * `processing.create_infotext` on the way out, `infotext_utils.parse_generation_parameters`
 * (plus the LoRA extension's paste hook) on the way into `/sdapi/v1/png-info`.
 */
import {
  FORGE_VERSION,
  LORAS,
  LORA_SHORT_HASHES,
  MODULES,
  PROMPT_STYLES,
  extractStylesFromPrompt,
  fileStem,
} from './catalog.js';
import type { LoraInfo, PromptStyle } from './catalog.js';
import { PY_WHITESPACE_CHARS, pyJsonDumps, pyStr, pyStrip } from './python-format.js';
import type { PyNumber } from './python-format.js';

/**
 * The values one image's infotext is built from. Numbers print as Python would hold them: wrap
 * floats in `pyFloat()` (an API `cfg_scale` of 7 is the float `7.0`); plain integral numbers
 * print as ints. Optional fields left out or `null` are omitted from the text.
 */
export interface InfotextFields {
  /** The image's prompt, styles applied. */
  readonly prompt: string;
  /** The image's negative prompt; its line is omitted when empty. */
  readonly negativePrompt?: string | null;
  readonly steps: number;
  /** The resolved sampler name. */
  readonly sampler: string;
  /** What `Schedule type` shows; see `scheduleTypeForInfotext`. */
  readonly scheduleType: string;
  readonly cfgScale: PyNumber;
  /** Only for distilled-CFG models (Flux dev); `null` otherwise. */
  readonly distilledCfgScale?: PyNumber | null;
  /** img2img's `image_cfg_scale`, when set. */
  readonly imageCfgScale?: PyNumber | null;
  /** This image's seed (`all_seeds[index]`). */
  readonly seed: number;
  /** The face restoration model, only when faces were restored. */
  readonly faceRestoration?: string | null;
  readonly width: number;
  readonly height: number;
  /** The checkpoint's 10-hex short hash. */
  readonly modelHash?: string | null;
  /** The checkpoint's file stem. */
  readonly model?: string | null;
  /** This image's variation seed; printed only when the strength is non-zero. */
  readonly variationSeed?: number | null;
  /** `subseed_strength`; 0 or `null` leaves both variation keys out. */
  readonly variationSeedStrength?: PyNumber | null;
  /** `seed_resize_from_w`/`_h`; printed only when both are positive. */
  readonly seedResizeFrom?: { readonly width: number; readonly height: number } | null;
  /** img2img or hires denoising strength. */
  readonly denoisingStrength?: PyNumber | null;
  /** Printed only when greater than 1. */
  readonly clipSkip?: number | null;
  /** Eta noise seed delta, for samplers that use it when it is non-zero. */
  readonly ensd?: number | null;
  /** Printed as `Tiling: True` when true. */
  readonly tiling?: boolean | null;
  /**
   * `extra_generation_params` in insertion order (hires keys, `Lora hashes`, ...). A key that
   * already exists (`Schedule type`, `Denoising strength`) overwrites it in place. Values must
   * be this image's values: Forge indexes per-image lists before formatting.
   */
  readonly extra?: ReadonlyArray<readonly [key: string, value: unknown]>;
  /**
   * The `Version` value; `null` leaves it out (`add_version_to_infotext` off).
   * @defaultValue FORGE_VERSION
   */
  readonly version?: string | null;
  /** The `User` value, when `add_user_name_to_info` is on. */
  readonly user?: string | null;
  /** `forge_unet_storage_dtype`; shown as `Diffusion in Low Bits` unless `Automatic`. */
  readonly lowBits?: string | null;
  /** `forge_additional_modules` entries (paths or file names); each prints its file stem. */
  readonly modules?: readonly string[];
}

/**
 * Forge's `infotext_utils.quote`: a value whose text contains `,`, `:` or a newline is written
 * as `json.dumps(value, ensure_ascii=False)`, anything else as Python's `str()`.
 *
 * @example
 * quoteInfotextValue('a: 1, b: 2'); // '"a: 1, b: 2"'
 */
export function quoteInfotextValue(value: unknown): string {
  const text = pyStr(value);
  if (!text.includes(',') && !text.includes('\n') && !text.includes(':')) return text;
  return pyJsonDumps(value, { ensureAscii: false });
}

/**
 * Builds one image's infotext exactly as `processing.create_infotext` does: the prompt, a
 * `Negative prompt:` line when there is one, then `Key: value` pairs in Forge's order
 * (§8.2), with `Version`, `Diffusion in Low Bits` and `Module N` at the end.
 *
 * @example
 * createInfotext({
 *   prompt: 'a cat', negativePrompt: 'blurry', steps: 20, sampler: 'Euler a',
 *   scheduleType: 'Automatic', cfgScale: pyFloat(7), seed: 1234, width: 512, height: 512,
 *   modelHash: '6ce0161689', model: 'v1-5-pruned-emaonly',
 * });
 */
export function createInfotext(fields: InfotextFields): string {
  const params = orderedParameters(fields);
  const parameterText = [...params]
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => (key === value ? key : `${key}: ${quoteInfotextValue(value)}`))
    .join(', ');
  const negative = fields.negativePrompt ? `\nNegative prompt: ${fields.negativePrompt}` : '';
  return pyStrip(`${fields.prompt}${negative}\n${parameterText}`);
}

/** Forge's `generation_params` dictionary: a Map keeps insertion order and in-place updates. */
function orderedParameters(fields: InfotextFields): Map<string, unknown> {
  const params = new Map<string, unknown>([
    ['Steps', fields.steps],
    ['Sampler', fields.sampler],
    ['Schedule type', fields.scheduleType],
    ['CFG scale', fields.cfgScale],
  ]);
  if (fields.distilledCfgScale != null) params.set('Distilled CFG Scale', fields.distilledCfgScale);

  for (const [key, value] of baseParameters(fields)) params.set(key, value);
  for (const [key, value] of fields.extra ?? []) params.set(key, value);
  params.set('Version', fields.version === undefined ? FORGE_VERSION : fields.version);
  params.set('User', fields.user ?? null);

  if (fields.lowBits != null && fields.lowBits !== 'Automatic') {
    params.set('Diffusion in Low Bits', fields.lowBits);
  }
  (fields.modules ?? []).forEach((module, index) =>
    params.set(`Module ${index + 1}`, fileStem(module)),
  );
  return params;
}

// Keys Forge always creates, even when their value is None, so that an extra parameter with
// the same key lands in this position.
function baseParameters(fields: InfotextFields): Array<[string, unknown]> {
  const hasVariation =
    fields.variationSeedStrength != null && Number(fields.variationSeedStrength) !== 0;
  const resize = fields.seedResizeFrom;
  return [
    ['Image CFG scale', fields.imageCfgScale ?? null],
    ['Seed', fields.seed],
    ['Face restoration', fields.faceRestoration ?? null],
    ['Size', `${fields.width}x${fields.height}`],
    ['Model hash', fields.modelHash ?? null],
    ['Model', fields.model ?? null],
    ['FP8 weight', null],
    ['Cache FP16 weight for LoRA', null],
    ['Variation seed', hasVariation ? (fields.variationSeed ?? null) : null],
    ['Variation seed strength', hasVariation ? fields.variationSeedStrength : null],
    [
      'Seed resize from',
      resize && resize.width > 0 && resize.height > 0 ? `${resize.width}x${resize.height}` : null,
    ],
    ['Denoising strength', fields.denoisingStrength ?? null],
    ['Conditional mask weight', null],
    ['Clip skip', fields.clipSkip != null && fields.clipSkip > 1 ? fields.clipSkip : null],
    ['ENSD', fields.ensd ?? null],
    ['Token merging ratio', null],
    ['Token merging ratio hr', null],
    ['Init image hash', null],
    ['RNG', null],
    ['Tiling', fields.tiling ? 'True' : null],
  ];
}

// ---------------------------------------------------------------------------------------------
// Parsing (png-info)
// ---------------------------------------------------------------------------------------------

/** A parsed infotext value: strings as read, plus the numbers, booleans and lists Forge injects. */
export type InfotextParamValue = string | number | boolean | string[];

/** The server state `parseGenerationParameters` compares against, as Forge reads it from opts. */
export interface InfotextParseContext {
  /** The `sd_model_checkpoint` option; `Model` is dropped when it is a substring of this. */
  readonly model?: string | null;
  /** The `forge_additional_modules` option (paths). @defaultValue [] */
  readonly modules?: readonly string[];
  /** File names of the known VAE/text-encoder modules. @defaultValue the catalog's MODULES */
  readonly moduleNames?: readonly string[];
  /** The style database. @defaultValue PROMPT_STYLES */
  readonly styles?: readonly PromptStyle[];
  /** Known LoRAs and their 12-hex short hashes. @defaultValue LORAS and LORA_SHORT_HASHES */
  readonly loras?: readonly LoraInfo[];
  readonly loraShortHashes?: Readonly<Record<string, string>>;
}

const WS = `[${PY_WHITESPACE_CHARS}]`;
// Forge's re_param with Python's Unicode \w and \s: `key: value` or `key: "quoted value"`.
const PARAM_PATTERN = new RegExp(
  `${WS}*([\\p{L}\\p{N}_][\\p{L}\\p{N}_ \\-/]+):${WS}*("(?:\\\\.|[^\\\\"])+"|[^,]*)(?:,|$)`,
  'gu',
);
// Python's `$` also matches before a final newline.
const IMAGE_SIZE = /^(\p{Nd}+)x(\p{Nd}+)\n?$/u;

/** A Python exception's class name on a JavaScript error, for callers that report it. */
function pythonError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Parses an infotext into the `parameters` object of `/sdapi/v1/png-info`, as Forge's
 * `parse_generation_parameters` followed by the LoRA extension's paste hook:
 *
 * 1. The last line holds the parameters when the `key: value` pattern matches it at least 3
 *    times; the lines before split into `Prompt` and `Negative prompt`.
 * 2. Values stay strings (quoted ones are JSON-decoded); `WxH` values become `Key-1`/`Key-2`.
 * 3. Styles of the style database found in the prompts are removed into `Styles array`.
 * 4. Defaults are injected for missing keys (`Clip skip: "1"`, `Schedule type: "Automatic"`,
 *    `Masked area padding: 32`, ...), old first-pass sizes and old versions are translated.
 * 5. `Model` is dropped when it matches the current checkpoint; `Module N` entries become
 *    `VAE/TE` when they differ from the current modules; `Hires VAE/TE` is always set.
 *
 * @throws Error named `ValueError` or `IndexError` where Forge itself raises (a malformed
 *   emphasis weight, first-pass size or `Lora hashes` entry), which png-info reports as a 500
 */
export function parseGenerationParameters(
  text: string,
  current: InfotextParseContext = {},
): Record<string, InfotextParamValue> {
  const { prompt, negativePrompt, parameterLine } = splitInfotext(text);
  const res = readParameterLine(parameterLine);
  const prompts = removeStyles(res, prompt, negativePrompt, current.styles ?? PROMPT_STYLES);

  res.set('Prompt', prompts.prompt);
  res.set('Negative prompt', prompts.negativePrompt);
  injectDefaults(res, prompts.prompt, prompts.negativePrompt);
  applyVersionBackcompat(res);
  dropCurrentModel(res, current.model);
  mapModules(res, current);
  replaceLoraAliases(res, current.loras ?? LORAS, current.loraShortHashes ?? LORA_SHORT_HASHES);
  return Object.fromEntries(res);
}

function splitInfotext(text: string): {
  prompt: string;
  negativePrompt: string;
  parameterLine: string;
} {
  const lines = pyStrip(text).split('\n');
  let parameterLine = lines.pop() ?? '';
  if ([...parameterLine.matchAll(PARAM_PATTERN)].length < 3) {
    lines.push(parameterLine);
    parameterLine = '';
  }

  let prompt = '';
  let negativePrompt = '';
  let inNegative = false;
  for (const rawLine of lines) {
    let line = pyStrip(rawLine);
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      line = pyStrip(line.slice('Negative prompt:'.length));
    }
    if (inNegative) negativePrompt += (negativePrompt === '' ? '' : '\n') + line;
    else prompt += (prompt === '' ? '' : '\n') + line;
  }
  return { prompt, negativePrompt, parameterLine };
}

function readParameterLine(line: string): Map<string, InfotextParamValue> {
  const res = new Map<string, InfotextParamValue>();
  for (const [, key = '', rawValue = ''] of fixCivitaiFlux(line).matchAll(PARAM_PATTERN)) {
    // Forge indexes value[0], so an empty value raises, is caught, and the key is skipped.
    if (rawValue === '') continue;
    const value = rawValue.startsWith('"') && rawValue.endsWith('"') ? unquote(rawValue) : rawValue;
    const size = IMAGE_SIZE.exec(value);
    if (size) {
      res.set(`${key}-1`, size[1] ?? '');
      res.set(`${key}-2`, size[2] ?? '');
    } else {
      res.set(key, value);
    }
  }
  return res;
}

function unquote(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'string' ? parsed : text;
  } catch {
    return text;
  }
}

/** Forge's repair of Civitai's Flux metadata, applied when both words appear on the line. */
function fixCivitaiFlux(line: string): string {
  if (!line.includes('Civitai') || !line.includes('FLUX')) return line;
  let fixed = line;
  for (let skip = 0; skip <= 8; skip++) fixed = fixed.replaceAll(`Clip skip: ${skip}, `, '');
  fixed = fixed.replaceAll('Sampler: Undefined, ', 'Sampler: Euler, Schedule type: Simple, ');
  return fixed.replaceAll('CFG scale: ', 'CFG scale: 1, Distilled CFG Scale: ');
}

/** `infotext_styles = "Apply if any"`: styles found in the prompts move to `Styles array`. */
function removeStyles(
  res: Map<string, InfotextParamValue>,
  prompt: string,
  negativePrompt: string,
  styles: readonly PromptStyle[],
): { prompt: string; negativePrompt: string } {
  const found = extractStylesFromPrompt(prompt, negativePrompt, styles);
  if (res.has('Hires prompt') || res.has('Hires negative prompt')) {
    const version = parseVersion(res.get('Version'));
    const hiresStylesApply = version === null || compareVersions(version, V180_HR_STYLES) > 0;
    if (hiresStylesApply && !extractHiresStyles(res, found, prompt, negativePrompt, styles)) {
      return { prompt, negativePrompt };
    }
  }
  if (found.styles.length > 0) res.set('Styles array', found.styles);
  return { prompt: found.prompt, negativePrompt: found.negativePrompt };
}

/** Returns false when the hires prompts carry different styles, which keeps every prompt as is. */
function extractHiresStyles(
  res: Map<string, InfotextParamValue>,
  found: { styles: string[]; prompt: string; negativePrompt: string },
  prompt: string,
  negativePrompt: string,
  styles: readonly PromptStyle[],
): boolean {
  const hiresPrompt = String(res.get('Hires prompt') ?? prompt);
  const hiresNegative = String(res.get('Hires negative prompt') ?? negativePrompt);
  const hires = extractStylesFromPrompt(hiresPrompt, hiresNegative, styles);
  if (!sameStrings(hires.styles, found.styles)) return false;
  res.set('Hires prompt', hires.prompt === found.prompt ? '' : hires.prompt);
  res.set(
    'Hires negative prompt',
    hires.negativePrompt === found.negativePrompt ? '' : hires.negativePrompt,
  );
  return true;
}

function sameStrings(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((item, index) => item === right[index]);
}

const DEFAULTS_BEFORE_HIRES_FIX: ReadonlyArray<[string, InfotextParamValue]> = [
  ['Hires sampler', 'Use same sampler'],
  ['Hires schedule type', 'Use same scheduler'],
  ['Hires checkpoint', 'Use same checkpoint'],
  ['Hires prompt', ''],
  ['Hires negative prompt', ''],
  ['Mask mode', 'Inpaint masked'],
  ['Masked content', 'original'],
  ['Inpaint area', 'Whole picture'],
  ['Masked area padding', 32],
];

const DEFAULTS_AFTER_HIRES_FIX: ReadonlyArray<[string, InfotextParamValue]> = [
  ['RNG', 'GPU'],
  ['Schedule type', 'Automatic'],
  ['Schedule max sigma', 0],
  ['Schedule min sigma', 0],
  ['Schedule rho', 0],
  ['VAE Encoder', 'Full'],
  ['VAE Decoder', 'Full'],
  ['FP8 weight', 'Disable'],
];

function setMissing(
  res: Map<string, InfotextParamValue>,
  defaults: ReadonlyArray<[string, InfotextParamValue]>,
): void {
  for (const [key, value] of defaults) if (!res.has(key)) res.set(key, value);
}

function injectDefaults(
  res: Map<string, InfotextParamValue>,
  prompt: string,
  negativePrompt: string,
): void {
  if (!res.has('Clip skip')) res.set('Clip skip', '1');
  const hypernet = res.get('Hypernet');
  if (hypernet !== undefined) {
    const strength = String(res.get('Hypernet strength') ?? '1.0');
    res.set('Prompt', `${String(res.get('Prompt'))}<hypernet:${String(hypernet)}:${strength}>`);
  }
  if (!res.has('Hires resize-1')) {
    res.set('Hires resize-1', 0);
    res.set('Hires resize-2', 0);
  }
  setMissing(res, DEFAULTS_BEFORE_HIRES_FIX);
  restoreOldHiresFixParams(res);
  setMissing(res, DEFAULTS_AFTER_HIRES_FIX);

  if (!res.has('Cache FP16 weight for LoRA') && res.get('FP8 weight') !== 'Disable') {
    res.set('Cache FP16 weight for LoRA', false);
  }
  if (!res.has('Emphasis') && (usesEmphasis(prompt) || usesEmphasis(negativePrompt))) {
    res.set('Emphasis', 'Original');
  }
  if (!res.has('Refiner switch by sampling steps'))
    res.set('Refiner switch by sampling steps', false);
}

/** Python's `int()` of a parsed value; raises ValueError like Python on anything else. */
function pyInt(value: InfotextParamValue | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return Math.trunc(value);
  const text = String(value).trim();
  if (!/^[+-]?\d+(?:_\d+)*$/.test(text)) {
    throw pythonError('ValueError', `invalid literal for int() with base 10: '${String(value)}'`);
  }
  return Number(text.replaceAll('_', ''));
}

/** Old infotexts give the first-pass size; translate it into size plus hires resize. */
function restoreOldHiresFixParams(res: Map<string, InfotextParamValue>): void {
  const firstWidth = res.get('First pass size-1');
  const firstHeight = res.get('First pass size-2');
  if (firstWidth === undefined || firstHeight === undefined) return;

  let passWidth = pyInt(firstWidth, 0);
  let passHeight = pyInt(firstHeight, 0);
  const width = pyInt(res.get('Size-1'), 512);
  const height = pyInt(res.get('Size-2'), 512);
  if (passWidth === 0 || passHeight === 0) {
    const scale = Math.sqrt((512 * 512) / (width * height));
    passWidth = Math.ceil((scale * width) / 64) * 64;
    passHeight = Math.ceil((scale * height) / 64) * 64;
  }
  res.set('Size-1', passWidth);
  res.set('Size-2', passHeight);
  res.set('Hires resize-1', width);
  res.set('Hires resize-2', height);
}

// Forge's prompt-attention tokens: escapes, brackets, `:weight)`, plain text and lone colons.
const ATTENTION_TOKEN =
  /\\\(|\\\)|\\\[|\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|]|[^\\()[\]:]+|:/g;
const BREAK_PATTERN = /\s*\bBREAK\b\s*/;
const ROUND_MULTIPLIER = 1.1;
const SQUARE_MULTIPLIER = 1 / 1.1;

/**
 * Whether a prompt uses attention emphasis, from Forge's `parse_prompt_attention`: any segment
 * other than BREAK whose weight is not exactly 1.0 after brackets and `(text:weight)` apply.
 */
function usesEmphasis(text: string): boolean {
  const segments = attentionSegments(text);
  return segments.some(([segment, weight]) => weight !== 1 && segment !== 'BREAK');
}

function attentionSegments(text: string): Array<[string, number]> {
  const segments: Array<[string, number]> = [];
  const round: number[] = [];
  const square: number[] = [];
  const multiplyFrom = (start: number, factor: number): void => {
    for (let index = start; index < segments.length; index++) {
      const segment = segments[index];
      if (segment) segment[1] *= factor;
    }
  };

  for (const [token, weight] of text.matchAll(ATTENTION_TOKEN)) {
    if (token.startsWith('\\')) segments.push([token.slice(1), 1]);
    else if (token === '(') round.push(segments.length);
    else if (token === '[') square.push(segments.length);
    else if (weight !== undefined && round.length > 0)
      multiplyFrom(round.pop() ?? 0, pyFloatOf(weight));
    else if (token === ')' && round.length > 0) multiplyFrom(round.pop() ?? 0, ROUND_MULTIPLIER);
    else if (token === ']' && square.length > 0) multiplyFrom(square.pop() ?? 0, SQUARE_MULTIPLIER);
    else pushTextWithBreaks(segments, token);
  }
  for (const start of round) multiplyFrom(start, ROUND_MULTIPLIER);
  for (const start of square) multiplyFrom(start, SQUARE_MULTIPLIER);
  return mergeEqualWeights(segments.length > 0 ? segments : [['', 1]]);
}

function pushTextWithBreaks(segments: Array<[string, number]>, text: string): void {
  text.split(BREAK_PATTERN).forEach((part, index) => {
    if (index > 0) segments.push(['BREAK', -1]);
    segments.push([part, 1]);
  });
}

function pyFloatOf(text: string): number {
  const value = Number(text);
  if (Number.isNaN(value))
    throw pythonError('ValueError', `could not convert string to float: '${text}'`);
  return value;
}

function mergeEqualWeights(segments: Array<[string, number]>): Array<[string, number]> {
  const merged: Array<[string, number]> = [];
  for (const [text, weight] of segments) {
    const last = merged.at(-1);
    if (last && last[1] === weight) last[0] += text;
    else merged.push([text, weight]);
  }
  return merged;
}

/** A PEP 440 version reduced to what Forge's comparisons need. */
interface Version {
  readonly epoch: number;
  readonly release: readonly number[];
  /** [phase 0-2 (a, b, rc), number], or ±Infinity when absent (dev-only sorts lowest). */
  readonly pre: readonly [number, number];
  readonly post: number;
  readonly dev: number;
}

const PEP440 =
  /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$/i;
const V160 = parseVersion('1.6.0') as Version;
const V170_TSNR = parseVersion('v1.7.0-225') as Version;
const V180 = parseVersion('1.8.0') as Version;
const V180_HR_STYLES = parseVersion('1.8.0-139') as Version;

/** Forge's `infotext_versions.parse_version`: keep `a-b` of `a-b-rest`, then PEP 440 parse. */
function parseVersion(value: InfotextParamValue | undefined): Version | null {
  if (typeof value !== 'string') return null;
  const text = /^([^-]+-[^-]+)-/.exec(value)?.[1] ?? value;
  const match = PEP440.exec(text);
  if (!match) return null;
  const [
    ,
    epoch,
    release = '0',
    preLabel,
    preNumber,
    postDash,
    postLabel,
    postNumber,
    devLabel,
    devNumber,
  ] = match;
  const hasPost = postDash !== undefined || postLabel !== undefined;
  const hasDev = devLabel !== undefined;
  // packaging's ordering: a dev-only release sorts before its pre-releases, a missing post
  // release before any post release, and a missing dev release after any dev release.
  const absentPre = hasDev && !hasPost ? -Infinity : Infinity;
  return {
    epoch: Number(epoch ?? 0),
    release: release.split('.').map(Number),
    pre: preLabel ? [prePhase(preLabel), Number(preNumber ?? 0)] : [absentPre, 0],
    post: hasPost ? Number(postDash ?? postNumber ?? 0) : -Infinity,
    dev: hasDev ? Number(devNumber ?? 0) : Infinity,
  };
}

function prePhase(label: string): number {
  const lower = label.toLowerCase();
  if (lower === 'a' || lower === 'alpha') return 0;
  if (lower === 'b' || lower === 'beta') return 1;
  return 2;
}

function compareVersions(left: Version, right: Version): number {
  const leftRelease = trimZeros(left.release);
  const rightRelease = trimZeros(right.release);
  const keys: Array<[number, number]> = [[left.epoch, right.epoch]];
  for (let index = 0; index < Math.max(leftRelease.length, rightRelease.length); index++) {
    keys.push([leftRelease[index] ?? -1, rightRelease[index] ?? -1]);
  }
  keys.push(
    [left.pre[0], right.pre[0]],
    [left.pre[1], right.pre[1]],
    [left.post, right.post],
    [left.dev, right.dev],
  );
  const difference = keys.find(([a, b]) => a !== b);
  return difference ? Math.sign(difference[0] - difference[1]) : 0;
}

function trimZeros(release: readonly number[]): number[] {
  const result = [...release];
  while (result.at(-1) === 0) result.pop();
  return result;
}

/** `infotext_versions.backcompat` with `auto_backcompat` on: flags for infotexts of old versions. */
function applyVersionBackcompat(res: Map<string, InfotextParamValue>): void {
  const version = parseVersion(res.get('Version'));
  if (version === null) return;
  const older = (than: Version): boolean => compareVersions(version, than) < 0;
  if (older(V160) && String(res.get('Prompt') ?? '').includes('['))
    res.set('Old prompt editing timelines', true);
  if (older(V160) && ['DDIM', 'PLMS'].includes(String(res.get('Sampler') ?? '')))
    res.set('Pad conds v0', true);
  if (older(V170_TSNR)) res.set('Downcast alphas_cumprod', true);
  if (older(V180) && res.get('Refiner')) res.set('Refiner switch by sampling steps', true);
}

function dropCurrentModel(
  res: Map<string, InfotextParamValue>,
  currentModel: string | null | undefined,
): void {
  const model = res.get('Model');
  if (
    typeof model === 'string' &&
    typeof currentModel === 'string' &&
    currentModel.includes(model)
  ) {
    res.delete('Model');
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Forge's VAE/TE mapping of `Module N` and `Hires Module N` entries to module file names. */
function mapModules(res: Map<string, InfotextParamValue>, current: InfotextParseContext): void {
  const known = current.moduleNames ?? MODULES.map((module) => module.model_name);
  const byStem = (value: InfotextParamValue): string | undefined =>
    known.find((name) => fileStem(name) === value);

  const legacyVae = res.get('VAE');
  res.delete('VAE');
  const modules: string[] = [];
  const hiresModules: string[] = [];
  if (legacyVae) {
    modules.push(String(legacyVae));
  } else {
    for (const [key, value] of res) {
      if (key.startsWith('Module ')) modules.push(byStem(value) ?? String(value));
      else if (key.startsWith('Hires Module ')) {
        const name = byStem(value);
        if (name !== undefined) hiresModules.push(name);
      }
    }
  }

  if (modules.length > 0) {
    const currentNames = (current.modules ?? []).map(baseName);
    if (!sameStrings([...modules].sort(), [...currentNames].sort())) res.set('VAE/TE', modules);
  }
  res.set('Hires VAE/TE', hiresSelection(res.get('Hires Module 1'), hiresModules));
}

function hiresSelection(first: InfotextParamValue | undefined, hiresModules: string[]): string[] {
  if (first === undefined) return ['Use same choices'];
  if (first === 'Use same choices') return ['Use same choices'];
  if (first === 'Built-in') return [];
  return hiresModules;
}

/** The LoRA extension's paste hook: `<lora:alias:` becomes the alias of the LoRA with that hash. */
function replaceLoraAliases(
  res: Map<string, InfotextParamValue>,
  loras: readonly LoraInfo[],
  shortHashes: Readonly<Record<string, string>>,
): void {
  const hashesText = res.get('Lora hashes');
  if (!hashesText || typeof hashesText !== 'string') return;

  const hashes = new Map<string, string>();
  for (const entry of hashesText.split(',')) {
    const stripped = pyStrip(entry);
    const separator = stripped.indexOf(':');
    if (separator < 0) throw pythonError('IndexError', 'list index out of range');
    const name = pyStrip(stripped.slice(0, separator)).replaceAll(',', '');
    hashes.set(name, pyStrip(stripped.slice(separator + 1)));
  }
  const byHash = new Map<string, LoraInfo>();
  for (const lora of loras) {
    const hash = shortHashes[lora.name];
    if (hash !== undefined) byHash.set(hash, lora);
  }
  const prompt = String(res.get('Prompt') ?? '');
  res.set(
    'Prompt',
    prompt.replace(/<lora:([^:]+):/g, (whole, alias: string) => {
      const hash = hashes.get(alias);
      const lora = hash === undefined ? undefined : byHash.get(hash);
      return lora ? `<lora:${lora.alias}:` : whole;
    }),
  );
}
