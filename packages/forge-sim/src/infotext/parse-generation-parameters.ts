/**
 * How Forge reads an infotext into the `parameters` of `/sdapi/v1/png-info` (forge-api.md §8):
 * `infotext_utils.parse_generation_parameters` with the defaults it injects for missing keys and
 * its back-compatibility flags, then the LoRA extension's paste hook.
 */
import {
  extractStylesFromPrompt,
  fileStem,
  LORAS,
  LORA_SHORT_HASHES,
  MODULES,
  PROMPT_STYLES,
  type LoraInfo,
  type PromptStyle,
} from '../catalog/index.js';
import { PY_WHITESPACE_CHARS, pyStrip } from '../python-format.js';
import { compareVersions, parseVersion, type Version } from './parse-version.js';
import { pythonError } from './python-error.js';
import { usesEmphasis } from './uses-emphasis.js';

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

// The Forge versions whose infotexts need back-compatibility flags or old hires style rules.
const V160 = parseVersion('1.6.0') as Version;
const V170_TSNR = parseVersion('v1.7.0-225') as Version;
const V180 = parseVersion('1.8.0') as Version;
const V180_HR_STYLES = parseVersion('1.8.0-139') as Version;

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
