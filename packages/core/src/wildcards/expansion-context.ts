/**
 * What the random, cyclical and combinatorial expanders share: variable scopes, the counters of
 * the cyclical sampler, the limits, and the errors the limits raise.
 */
import type { SamplerOverride, TemplateNode } from './template-ast.js';
import { WildcardError } from './wildcard-error.js';

/** The limits and policies of one expansion, after defaults. */
export interface ExpansionSettings {
  /** The most wildcard files open at once (`__a__` in a template is depth 1). */
  readonly maxDepth: number;
  /** What a name that finds nothing does: throw, or stay in the prompt as written. */
  readonly missing: 'error' | 'keep';
  /** The longest prompt, in characters. */
  readonly maxLength: number;
  /** The most nodes visited, a guard against templates that take too long to expand. */
  readonly maxSteps: number;
}

/** A variable's value: a node expanded at each use, or text fixed when it was set. */
export type Binding =
  | { readonly node: TemplateNode; readonly text: null }
  | { readonly node: null; readonly text: string };

/** Variables visible at one point: own bindings, then the enclosing scope's. */
export class Scope {
  readonly #parent: Scope | null;
  readonly #bindings: Map<string, Binding>;

  constructor(parent: Scope | null, bindings: Map<string, Binding> = new Map()) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  /** The binding of `name` here or in an enclosing scope. */
  lookup(name: string): Binding | undefined {
    return this.#bindings.get(name) ?? this.#parent?.lookup(name);
  }

  /** Binds `name` in this scope. */
  set(name: string, binding: Binding): void {
    this.#bindings.set(name, binding);
  }
}

/**
 * The positions of the cyclical sampler: each variant or wildcard node counts how often it was
 * sampled, so that its options come in turn across the prompts of a batch.
 */
export class CycleState {
  readonly #counters = new Map<object, number>();
  readonly #start: number;

  /** @param start - Where every counter starts (the image index, when nothing is replayed). */
  constructor(start = 0) {
    this.#start = start;
  }

  /** The node's count so far. */
  peek(node: object): number {
    return this.#counters.get(node) ?? this.#start;
  }

  /** The node's count so far, then counts one more. */
  next(node: object): number {
    const count = this.peek(node);
    this.#counters.set(node, count + 1);
    return count;
  }
}

/** The sampler a node uses inside an expansion that samples with `current`. */
export function effectiveSampler(
  current: 'random' | 'cyclical',
  override: SamplerOverride | null,
): 'random' | 'cyclical' {
  // A finite (combinatorial) sampler inside an endless one falls back to the enclosing one, as
  // dynamicprompts does (sampling_context.py).
  if (override === null || override === 'combinatorial') return current;
  return override;
}

/** Entering wildcard `key` with `stack` open: throws on a loop or on too much depth. */
export function checkWildcardEntry(stack: readonly string[], key: string, maxDepth: number): void {
  const seen = stack.indexOf(key);
  if (seen >= 0) {
    const cycle = [...stack.slice(seen), key];
    throw new WildcardError(
      'FT_ERR_WILDCARD_CYCLE',
      `wildcards refer to each other in a loop: ${cycle.join(' -> ')}`,
      { name: key, cycle },
    );
  }
  if (stack.length >= maxDepth) {
    throw new WildcardError(
      'FT_ERR_WILDCARD_DEPTH',
      `wildcards are nested more than ${maxDepth} deep (maxDepth): ` +
        `${[...stack, key].join(' -> ')}`,
      { name: key, limit: maxDepth },
    );
  }
}

/** A variable being read, with the binding it was read through. */
export interface OpenVariable {
  readonly name: string;
  readonly binding: Binding;
}

/**
 * Reading `binding` of variable `name` while `stack` is being read: throws when a binding is read
 * through itself. Bindings are compared, not names, so `${w=${w=cat}${w}}` (an inner `w` that
 * hides the outer one) is no loop.
 */
export function checkVariableEntry(
  stack: readonly OpenVariable[],
  name: string,
  binding: Binding,
): void {
  const seen = stack.findIndex((open) => open.binding === binding);
  if (seen < 0) return;
  const cycle = [...stack.slice(seen).map((open) => open.name), name].map(
    (entry) => `\${${entry}}`,
  );
  throw new WildcardError(
    'FT_ERR_WILDCARD_CYCLE',
    `a variable is defined through itself: ${cycle.join(' -> ')}`,
    { name, cycle },
  );
}

/** The error of a prompt longer than `maxLength`. */
export function lengthError(length: number, maxLength: number): WildcardError {
  return new WildcardError(
    'FT_ERR_WILDCARD_LIMIT',
    `the expanded prompt reached ${length} characters; at most ${maxLength} are allowed ` +
      '(maxLength)',
    { limit: maxLength },
  );
}

/** The error of an expansion that visits more than `maxSteps` nodes. */
export function stepsError(maxSteps: number): WildcardError {
  return new WildcardError(
    'FT_ERR_WILDCARD_LIMIT',
    `expanding the template took more than ${maxSteps} steps; simplify it or lower the counts ` +
      'it asks for',
    { limit: maxSteps },
  );
}

/** The error of a wildcard name that finds nothing. */
export function wildcardNotFound(name: string, source: string, position: number): WildcardError {
  return new WildcardError(
    'FT_ERR_WILDCARD_NOT_FOUND',
    `no wildcard file or collection is named '${name}' (in ${source} at offset ${position})`,
    { name, source, position },
  );
}

/** The error of a variable read but never set, and without a default. */
export function variableNotFound(name: string, source: string, position: number): WildcardError {
  return new WildcardError(
    'FT_ERR_WILDCARD_NOT_FOUND',
    `the variable '${name}' is read but never set (in ${source} at offset ${position}); set it ` +
      `with \${${name}=...} or give a default with \${${name}:default}`,
    { name, source, position },
  );
}
