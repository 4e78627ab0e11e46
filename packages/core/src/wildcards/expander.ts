/**
 * The expansion API the engine calls: one prompt for one image ({@link expandPrompt}), a preview
 * of several ({@link previewExpansion}), and every combination for batch generation
 * ({@link expandCombinations}). Each returns the resolved text with its {@link ExpansionTrace}.
 *
 * Expansion is synchronous: the library is in memory, and a template is parsed once (LRU cache).
 * It reads one snapshot of the library from start to end, so a reload during a batch never mixes
 * two versions of the files within one prompt.
 */
import { ConfigError } from '../errors.js';
import { CombinationEnumerator, flattenTrace } from './combination-enumerator.js';
import { CycleState, Scope, type ExpansionSettings } from './expansion-context.js';
import type { ExpansionMode, ExpansionResult } from './expansion-trace.js';
import { Prng } from './prng.js';
import { PromptEvaluator } from './prompt-evaluator.js';
import type { ParsedTemplate } from './template-ast.js';
import { parseTemplate } from './template-parser.js';
import { WildcardError } from './wildcard-error.js';
import type { WildcardLibrary } from './wildcard-library.js';
import type { WildcardSnapshot } from './wildcard-snapshot.js';

/** What a wildcard or variable that names nothing does. */
export type MissingPolicy = 'error' | 'keep';

/** Limits and policies shared by every kind of expansion. */
export interface ExpansionLimits {
  /**
   * The most wildcard files open at once: `__a__` in the template is depth 1, a `__b__` inside
   * one of a's values depth 2. The engine passes the request's `wildcards.max_depth`.
   * @defaultValue 10
   */
  maxDepth?: number;
  /**
   * `error` throws `FT_ERR_WILDCARD_NOT_FOUND`; `keep` leaves the token in the prompt as written
   * (what dynamicprompts and the A1111 extension do) and records it in the trace.
   * @defaultValue 'error'
   */
  missing?: MissingPolicy;
  /**
   * The longest prompt, in characters.
   * @defaultValue 10,000
   */
  maxLength?: number;
  /** Variables set before the template runs, as fixed text (`${name}` reads them). */
  variables?: Readonly<Record<string, string>>;
}

/** Options of {@link expandPrompt} and {@link previewExpansion}. */
export interface ExpandOptions extends ExpansionLimits {
  /** The image seed: an integer from 0 (Forge's `-1` must be resolved to a seed first). */
  seed: number;
  /**
   * The image's index in its batch, so that the images of one seed vary.
   * @defaultValue 0
   */
  index?: number;
  /**
   * `random` draws with a generator seeded from `seed` and `index`; `cyclical` takes every
   * option in turn across the indexes of a batch, each once before any repeats.
   * @defaultValue 'random'
   */
  mode?: 'random' | 'cyclical';
}

/** Options of {@link expandCombinations}. */
export interface CombinationOptions extends ExpansionLimits {
  /**
   * The most prompts returned.
   * @defaultValue 1,000
   */
  cap?: number;
  /**
   * With more combinations than `cap`: `error` throws `FT_ERR_WILDCARD_LIMIT`, `truncate` returns
   * the first `cap`.
   * @defaultValue 'error'
   */
  overflow?: 'error' | 'truncate';
  /**
   * Seed of the parts marked random (`{~a|b}`) inside a combinatorial expansion.
   * @defaultValue 0
   */
  seed?: number;
}

/** Options of {@link previewExpansion}. */
export interface PreviewOptions extends Omit<ExpandOptions, 'index'> {
  /** How many prompts, for indexes 0 to count - 1; from 1 to {@link MAX_PREVIEW_COUNT}. */
  count: number;
}

/** Defaults of the optional expansion options. */
export const DEFAULT_EXPAND_OPTIONS = {
  index: 0,
  mode: 'random',
  maxDepth: 10,
  missing: 'error',
  maxLength: 10_000,
  variables: {},
  cap: 1_000,
  overflow: 'error',
} as const satisfies Required<Omit<ExpandOptions, 'seed'> & Omit<CombinationOptions, 'seed'>>;

/** The most prompts one preview returns. */
export const MAX_PREVIEW_COUNT = 1_000;
/** The highest `cap` of a combinatorial expansion. */
export const MAX_COMBINATIONS = 100_000;
/** The highest index a cyclical expansion accepts (it replays the indexes before it). */
export const MAX_CYCLICAL_INDEX = 10_000;
/** Nodes one expansion may visit (a guard against runaway templates). */
const MAX_STEPS = 1_000_000;
const MAX_DEPTH = 100;
const MAX_LENGTH = 1_000_000;
const TWO_POW_32 = 4_294_967_296;

/**
 * Expands a template into one prompt.
 *
 * The same template, files, seed and index always give the same prompt and trace.
 *
 * @example
 * ```ts
 * const { prompt, trace } = expandPrompt(library, 'a __animals/cats__ at {dawn|dusk}', {
 *   seed: 1234,
 *   index: 0,
 *   maxDepth: request.wildcards.max_depth,
 * });
 * // prompt: 'a sleepy ginger cat at dawn'
 * // trace.files: { 'built-in/samples.yaml': '8316119a...' }
 * ```
 * @throws {@link WildcardError} `FT_ERR_WILDCARD_SYNTAX`, `_NOT_FOUND`, `_CYCLE`, `_DEPTH` or
 *   `_LIMIT`; {@link ConfigError} for options out of range or an unloaded library.
 */
export function expandPrompt(
  library: WildcardLibrary,
  template: string,
  options: ExpandOptions,
): ExpansionResult {
  return guardStack(() => expandOne(library, template, options));
}

function expandOne(
  library: WildcardLibrary,
  template: string,
  options: ExpandOptions,
): ExpansionResult {
  const settings = expansionSettings(options);
  const seed = checkSeed(options.seed, 'seed');
  const index = checkInteger(
    options.index ?? DEFAULT_EXPAND_OPTIONS.index,
    'index',
    0,
    TWO_POW_32 - 1,
  );
  const mode = checkMode(options.mode);
  const parsed = parseTemplate(checkTemplate(template));
  const snapshot = library.snapshot;
  const scope = initialScope(options.variables);
  let cycles: CycleState | null = null;
  if (mode === 'cyclical' || parsed.usesCycles) {
    // Cyclical counters depend on every prompt before this one: replay them, discarding the text.
    checkInteger(index, 'index', 0, MAX_CYCLICAL_INDEX);
    cycles = new CycleState();
    for (let earlier = 0; earlier < index; earlier += 1) {
      evaluate(snapshot, settings, parsed, scope, { seed, index: earlier, mode, cycles });
    }
  }
  const evaluator = evaluate(snapshot, settings, parsed, scope, { seed, index, mode, cycles });
  return toResult(library, template, { seed, index, mode }, evaluator);
}

/**
 * Expands a template for indexes 0 to `count - 1` without generating anything: what a batch of
 * `count` images with this seed would get. Equal to calling {@link expandPrompt} per index.
 *
 * @throws as {@link expandPrompt}, and {@link ConfigError} for a count out of range.
 */
export function previewExpansion(
  library: WildcardLibrary,
  template: string,
  options: PreviewOptions,
): ExpansionResult[] {
  return guardStack(() => previewMany(library, template, options));
}

function previewMany(
  library: WildcardLibrary,
  template: string,
  options: PreviewOptions,
): ExpansionResult[] {
  const settings = expansionSettings(options);
  const seed = checkSeed(options.seed, 'seed');
  const count = checkInteger(options.count, 'count', 1, MAX_PREVIEW_COUNT);
  const mode = checkMode(options.mode);
  const parsed = parseTemplate(checkTemplate(template));
  const snapshot = library.snapshot;
  const scope = initialScope(options.variables);
  const cycles = mode === 'cyclical' || parsed.usesCycles ? new CycleState() : null;
  return Array.from({ length: count }, (_, index) => {
    const evaluator = evaluate(snapshot, settings, parsed, scope, { seed, index, mode, cycles });
    return toResult(library, template, { seed, index, mode }, evaluator);
  });
}

/** One expansion's prompt and the trace of how it came about. */
function toResult(
  library: WildcardLibrary,
  template: string,
  { seed, index, mode }: { seed: number; index: number; mode: ExpansionMode },
  evaluator: ReturnType<typeof evaluate>,
): ExpansionResult {
  return {
    prompt: evaluator.out,
    trace: {
      template,
      mode,
      seed,
      index,
      choices: evaluator.choices,
      files: Object.fromEntries(evaluator.files),
      libraryVersion: library.version,
    },
  };
}

/**
 * Every prompt a template can produce, in order (leftmost choice slowest), for batch generation.
 *
 * @example
 * ```ts
 * expandCombinations(library, 'a {red|green} {cat|dog}', { cap: 100 }).map((r) => r.prompt);
 * // ['a red cat', 'a red dog', 'a green cat', 'a green dog']
 * ```
 * @throws as {@link expandPrompt}; `FT_ERR_WILDCARD_LIMIT` when there are more than `cap`
 *   combinations and `overflow` is `error`.
 */
export function expandCombinations(
  library: WildcardLibrary,
  template: string,
  options: CombinationOptions = {},
): ExpansionResult[] {
  return guardStack(() => enumerateAll(library, template, options));
}

function enumerateAll(
  library: WildcardLibrary,
  template: string,
  options: CombinationOptions,
): ExpansionResult[] {
  const settings = expansionSettings(options);
  const seed = checkSeed(options.seed ?? 0, 'seed');
  const cap = checkInteger(options.cap ?? DEFAULT_EXPAND_OPTIONS.cap, 'cap', 1, MAX_COMBINATIONS);
  const overflow = checkChoice(options.overflow, 'overflow', ['error', 'truncate'] as const);
  const parsed = parseTemplate(checkTemplate(template));
  const enumerator = new CombinationEnumerator(library.snapshot, settings, new Prng(seed));
  const results: ExpansionResult[] = [];
  for (const piece of enumerator.prompts(parsed.root, initialScope(options.variables))) {
    if (results.length === cap) {
      if (overflow === 'truncate') break;
      throw new WildcardError(
        'FT_ERR_WILDCARD_LIMIT',
        `the template has more than ${cap} combinations (cap); raise the cap, narrow the ` +
          "template, or pass overflow: 'truncate' to take the first ones",
        { limit: cap },
      );
    }
    const { choices, files } = flattenTrace(piece.trace);
    const mode: ExpansionMode = 'combinatorial';
    const trace = { template, mode, seed, index: results.length, choices, files };
    results.push({ prompt: piece.text, trace: { ...trace, libraryVersion: library.version } });
  }
  return results;
}

/**
 * Runs an expansion, turning a call-stack overflow into a coded error. Each construct is bounded
 * (nesting 100 per text, `maxDepth` wildcards), but a deep template whose wildcard values are
 * themselves deeply nested can still multiply past what the stack holds.
 */
function guardStack<Result>(run: () => Result): Result {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof RangeError) || !/call stack/i.test(error.message)) throw error;
    throw new WildcardError(
      'FT_ERR_WILDCARD_LIMIT',
      'the template and its wildcards nest too deeply to expand; reduce the nesting or maxDepth',
      { cause: error },
    );
  }
}

interface Draw {
  readonly seed: number;
  readonly index: number;
  readonly mode: 'random' | 'cyclical';
  readonly cycles: CycleState | null;
}

function evaluate(
  snapshot: WildcardSnapshot,
  settings: ExpansionSettings,
  parsed: ParsedTemplate,
  scope: Scope,
  draw: Draw,
): PromptEvaluator {
  const evaluator = new PromptEvaluator(snapshot, settings, {
    prng: new Prng(draw.seed, draw.index),
    cycles: draw.cycles,
    cycleStart: draw.index,
    sampler: draw.mode,
  });
  evaluator.run(parsed.root, scope);
  return evaluator;
}

function expansionSettings(options: ExpansionLimits | undefined): ExpansionSettings {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('expansion options must be an object');
  }
  const defaults = DEFAULT_EXPAND_OPTIONS;
  return {
    maxDepth: checkInteger(options.maxDepth ?? defaults.maxDepth, 'maxDepth', 1, MAX_DEPTH),
    missing: checkChoice(options.missing, 'missing', ['error', 'keep'] as const),
    maxLength: checkInteger(options.maxLength ?? defaults.maxLength, 'maxLength', 1, MAX_LENGTH),
    maxSteps: MAX_STEPS,
  };
}

function initialScope(variables: Readonly<Record<string, string>> | undefined): Scope {
  const scope = new Scope(null);
  if (variables === undefined) return scope;
  if (typeof variables !== 'object' || variables === null) {
    throw new ConfigError('options.variables must be an object of names to text');
  }
  for (const [name, value] of Object.entries(variables)) {
    if (!/^[A-Za-z_-][\w-]*$/.test(name) || typeof value !== 'string') {
      throw new ConfigError(
        `options.variables.${name} must be text, under a name of letters, digits, '_' and '-'`,
      );
    }
    scope.set(name, { node: null, text: value });
  }
  return scope;
}

function checkTemplate(template: unknown): string {
  if (typeof template !== 'string') throw new ConfigError('the template must be a string');
  return template;
}

function checkSeed(value: unknown, option: string): number {
  return checkInteger(value, option, 0, Number.MAX_SAFE_INTEGER);
}

function checkMode(value: unknown): 'random' | 'cyclical' {
  return checkChoice(value, 'mode', ['random', 'cyclical'] as const);
}

function checkInteger(value: unknown, option: string, low: number, high: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < low || value > high) {
    throw new ConfigError(`options.${option} must be an integer from ${low} to ${high}`);
  }
  return value;
}

/** The value when it is one of `allowed`, the first of them when undefined. */
function checkChoice<Choice extends string>(
  value: unknown,
  option: string,
  allowed: readonly [Choice, ...Choice[]],
): Choice {
  if (value === undefined) return allowed[0];
  if (!allowed.includes(value as Choice)) {
    throw new ConfigError(
      `options.${option} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`,
    );
  }
  return value as Choice;
}
