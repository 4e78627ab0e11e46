/**
 * Enumerates every prompt a template can produce, in dynamicprompts' order: the leftmost choice
 * varies slowest; a variant yields its picks for each count from its lower bound up, each count as
 * ordered picks without repeats (`{2$$a|b|c}` gives `a,b`, `a,c`, `b,a`, ...), skipping picks
 * whose texts repeat and results already given; a wildcard yields its values in file order.
 *
 * Everything is lazy (generators), so asking for the first N of a huge space costs N, and the
 * caller's cap stops the walk. Nodes that sample randomly or cyclically (`{~...}`, `__@...__`)
 * are endless, so they give one value per combination instead, drawn afresh for each.
 *
 * Each yielded piece carries its trace as a small tree (two pieces joined make a pair), so that
 * joining is cheap and the list of choices is built once per finished prompt.
 */
import type { Prng } from './prng.js';
import type {
  AssignmentNode,
  TemplateNode,
  VariantNode,
  WildcardNode,
  WrapNode,
} from './template-ast.js';
import {
  CycleState,
  Scope,
  checkVariableEntry,
  checkWildcardEntry,
  lengthError,
  stepsError,
  variableNotFound,
  wildcardNotFound,
  type ExpansionSettings,
  type OpenVariable,
} from './expansion-context.js';
import type { ExpansionChoice } from './expansion-trace.js';
import { PromptEvaluator } from './prompt-evaluator.js';
import {
  locateValue,
  valueTemplate,
  type WildcardResolution,
  type WildcardSnapshot,
} from './wildcard-snapshot.js';

/** A decision plus the files it read: one leaf of a trace tree. */
interface TraceLeaf {
  readonly choice: ExpansionChoice | null;
  readonly files: readonly { readonly key: string; readonly sha256: string }[];
}

/** Two trace trees, left first. */
class TracePair {
  constructor(
    readonly left: TraceTree,
    readonly right: TraceTree,
  ) {}
}

type TraceTree = null | TraceLeaf | TracePair;

/** Part of a prompt, with the decisions that made it. */
export interface Piece {
  readonly text: string;
  readonly trace: TraceTree;
}

/** What is open while enumerating below a point: wildcards and variables being expanded. */
interface Open {
  readonly wildcards: readonly string[];
  readonly variables: readonly OpenVariable[];
}

const EMPTY_PIECE: Piece = { text: '', trace: null };
const NOTHING_OPEN: Open = { wildcards: [], variables: [] };
const WRAP_MARKER = /[\u1801\u2026\u22ee-\u22f1\ufe19]+|\.{3,}/u;

/** One enumeration of one template. */
export class CombinationEnumerator {
  readonly #snapshot: WildcardSnapshot;
  readonly #settings: ExpansionSettings;
  readonly #prng: Prng;
  readonly #cycles = new CycleState();
  #steps = 0;

  constructor(snapshot: WildcardSnapshot, settings: ExpansionSettings, prng: Prng) {
    this.#snapshot = snapshot;
    this.#settings = settings;
    this.#prng = prng;
  }

  /** Every prompt of `root`, lazily. */
  prompts(root: TemplateNode, scope: Scope): Generator<Piece> {
    return this.#pieces(root, scope, NOTHING_OPEN);
  }

  *#pieces(node: TemplateNode, scope: Scope, open: Open): Generator<Piece> {
    this.#step();
    switch (node.type) {
      case 'text':
        yield { text: node.text, trace: null };
        return;
      case 'sequence':
        for (const [inner, trace] of this.#assignments(node.assignments, 0, scope, open)) {
          for (const piece of this.#product(node.parts, 0, inner, open)) {
            yield { text: piece.text, trace: pair(trace, piece.trace) };
          }
        }
        return;
      case 'variant':
      case 'wildcard':
        if (node.sampler === 'random' || node.sampler === 'cyclical') {
          yield this.#sampleOnce(node, scope, open);
        } else if (node.type === 'variant') yield* this.#variant(node, scope, open);
        else yield* this.#wildcard(node, scope, open);
        return;
      case 'variable':
        yield* this.#variable(node.name, node.fallback, node, scope, open);
        return;
      case 'wrap':
        yield* this.#wrap(node, scope, open);
        return;
      case 'assignment':
        // Assignments are lifted into their sequence's `assignments` and run there.
        yield EMPTY_PIECE;
        return;
    }
  }

  /** The sequence's parts, every combination, leftmost slowest. */
  *#product(
    parts: readonly TemplateNode[],
    from: number,
    scope: Scope,
    open: Open,
  ): Generator<Piece> {
    let prefix = '';
    let index = from;
    for (let part = parts[index]; part?.type === 'text'; part = parts[index]) {
      prefix += part.text;
      index += 1;
    }
    const head = parts[index];
    if (head === undefined) {
      yield { text: prefix, trace: null };
      return;
    }
    const endless = endlessNode(head);
    if (endless !== null) {
      // An endless node gives a fresh value for every combination of what follows it.
      for (const tail of this.#product(parts, index + 1, scope, open)) {
        const value = this.#sampleOnce(endless, scope, open);
        yield this.#joinPieces(prefix, value, tail);
      }
      return;
    }
    for (const value of this.#pieces(head, scope, open)) {
      for (const tail of this.#product(parts, index + 1, scope, open)) {
        yield this.#joinPieces(prefix, value, tail);
      }
    }
  }

  #joinPieces(prefix: string, head: Piece, tail: Piece): Piece {
    const text = prefix + head.text + tail.text;
    if (text.length > this.#settings.maxLength) {
      throw lengthError(text.length, this.#settings.maxLength);
    }
    return { text, trace: pair(head.trace, tail.trace) };
  }

  /** Scopes for every combination of the immediate assignments' values. */
  *#assignments(
    assignments: readonly AssignmentNode[],
    from: number,
    scope: Scope,
    open: Open,
  ): Generator<[Scope, TraceTree]> {
    const assignment = assignments[from];
    if (assignment === undefined) {
      yield [scope, null];
      return;
    }
    if (assignment.keepExisting && scope.lookup(assignment.name) !== undefined) {
      yield* this.#assignments(assignments, from + 1, scope, open);
      return;
    }
    if (!assignment.immediate) {
      const inner = new Scope(scope);
      inner.set(assignment.name, { node: assignment.value, text: null });
      yield* this.#assignments(assignments, from + 1, inner, open);
      return;
    }
    for (const value of this.#pieces(assignment.value, scope, open)) {
      const inner = new Scope(scope);
      inner.set(assignment.name, { node: null, text: value.text });
      const choice: ExpansionChoice = {
        kind: 'variable',
        name: assignment.name,
        value: value.text,
      };
      const trace = pair(value.trace, { choice, files: [] });
      for (const [deeper, rest] of this.#assignments(assignments, from + 1, inner, open)) {
        yield [deeper, pair(trace, rest)];
      }
    }
  }

  *#variable(
    name: string,
    fallback: TemplateNode | null,
    origin: { source: string; position: number; raw: string },
    scope: Scope,
    open: Open,
  ): Generator<Piece> {
    const binding = scope.lookup(name);
    if (binding === undefined) {
      if (fallback !== null) yield* this.#pieces(fallback, scope, open);
      else yield this.#missing(name, origin.raw, origin, 'variable');
      return;
    }
    if (binding.node === null) {
      yield { text: binding.text, trace: null };
      return;
    }
    checkVariableEntry(open.variables, name, binding);
    const inner = { ...open, variables: [...open.variables, { name, binding }] };
    yield* this.#pieces(binding.node, scope, inner);
  }

  *#wrap(node: WrapNode, scope: Scope, open: Open): Generator<Piece> {
    for (const wrapper of this.#pieces(node.wrapper, scope, open)) {
      for (const inner of this.#pieces(node.inner, scope, open)) {
        const marker = WRAP_MARKER.exec(wrapper.text);
        const text =
          marker === null
            ? wrapper.text + inner.text
            : wrapper.text.slice(0, marker.index) +
              inner.text +
              wrapper.text.slice(marker.index + marker[0].length);
        yield { text, trace: pair(wrapper.trace, inner.trace) };
      }
    }
  }

  *#variant(node: VariantNode, scope: Scope, open: Open): Generator<Piece> {
    if (node.wildcardOnly !== null) {
      yield* this.#wildcardPicks(node.wildcardOnly, node, scope, open);
      return;
    }
    const eligible: number[] = [];
    const options: (() => Generator<Piece>)[] = [];
    node.options.forEach((option, index) => {
      if (option.weight <= 0) return;
      eligible.push(index);
      options.push(() => this.#pieces(option.body, scope, open));
    });
    for (const picks of this.#picks(node, options)) {
      const picked = picks.indexes.map((position) => eligible[position] ?? 0);
      const values = picked.map((index) => node.options[index]?.raw ?? '');
      const choice: ExpansionChoice = {
        kind: 'variant',
        source: node.source,
        position: node.position,
        picked,
        values,
      };
      yield { text: picks.text, trace: pair({ choice, files: [] }, picks.trace) };
    }
  }

  /** `{2$$__name__}`: ordered picks of distinct values of one wildcard. */
  *#wildcardPicks(
    wildcard: WildcardNode,
    variant: VariantNode,
    scope: Scope,
    open: Open,
  ): Generator<Piece> {
    for (const found of this.#resolveAll(wildcard, scope, open)) {
      if (found.resolution === null) {
        yield found.missing;
        continue;
      }
      const { resolution, name } = found;
      const inner = parameterScope(wildcard, scope);
      const options = this.#eligibleValues(resolution).map(
        (index) => (): Generator<Piece> => this.#value(resolution, index, inner, open, name),
      );
      for (const picks of this.#picks(variant, options)) {
        yield { text: picks.text, trace: pair(found.trace, picks.trace) };
      }
    }
  }

  /** Every ordered pick of `count` options, for each count of the variant's range. */
  *#picks(
    variant: VariantNode,
    options: readonly (() => Generator<Piece>)[],
  ): Generator<Piece & { indexes: number[] }> {
    const high = Math.min(variant.max, options.length);
    const low = Math.min(variant.min, high);
    const seen = new Set<string>();
    for (let count = low; count <= high; count += 1) {
      for (const indexes of this.#orderings(options.length, count)) {
        for (const parts of this.#tuples(
          indexes.map((index) => options[index]),
          0,
        )) {
          const texts = parts.map((part) => part.text);
          if (new Set(texts).size !== texts.length) continue;
          const key = texts.join('\u0000');
          if (seen.has(key)) continue;
          seen.add(key);
          const text = texts.filter((part) => part.length > 0).join(variant.separator);
          const trace = parts.reduce<TraceTree>((tree, part) => pair(tree, part.trace), null);
          yield { text, trace, indexes };
        }
      }
    }
  }

  /** Ordered selections of `count` distinct indexes below `size`, in lexicographic order. */
  *#orderings(
    size: number,
    count: number,
    chosen: number[] = [],
    used = new Uint8Array(size),
  ): Generator<number[]> {
    if (chosen.length === count) {
      yield [...chosen];
      return;
    }
    for (let index = 0; index < size; index += 1) {
      if (used[index] === 1) continue;
      this.#step();
      chosen.push(index);
      used[index] = 1;
      yield* this.#orderings(size, count, chosen, used);
      used[index] = 0;
      chosen.pop();
    }
  }

  /** Every combination of the options' pieces, first option slowest. */
  *#tuples(
    options: readonly ((() => Generator<Piece>) | undefined)[],
    from: number,
  ): Generator<Piece[]> {
    const option = options[from];
    if (option === undefined) {
      yield [];
      return;
    }
    for (const piece of option()) {
      for (const rest of this.#tuples(options, from + 1)) yield [piece, ...rest];
    }
  }

  *#wildcard(node: WildcardNode, scope: Scope, open: Open): Generator<Piece> {
    for (const found of this.#resolveAll(node, scope, open)) {
      if (found.resolution === null) {
        yield found.missing;
        continue;
      }
      const { resolution, name } = found;
      const inner = parameterScope(node, scope);
      for (const index of this.#eligibleValues(resolution)) {
        for (const piece of this.#value(resolution, index, inner, open, name)) {
          yield { text: piece.text, trace: pair(found.trace, piece.trace) };
        }
      }
    }
  }

  /** Every name a wildcard node can have (one, unless its name has variants) and its values. */
  *#resolveAll(
    node: WildcardNode,
    scope: Scope,
    open: Open,
  ): Generator<
    | { resolution: WildcardResolution; name: string; trace: TraceTree }
    | { resolution: null; missing: Piece }
  > {
    const names: Iterable<Piece> =
      node.staticPath === null
        ? this.#pieces(node.path, scope, open)
        : [{ text: node.staticPath, trace: null }];
    for (const name of names) {
      const resolution = this.#snapshot.resolve(name.text);
      if (resolution !== null && resolution.size > 0) {
        yield { resolution, name: name.text, trace: name.trace };
      } else {
        const raw = node.staticPath === null ? `__${name.text}__` : node.raw;
        yield { resolution: null, missing: this.#missing(name.text, raw, node, 'wildcard') };
      }
    }
  }

  /** Indexes of a resolution's values whose weight is above 0. */
  #eligibleValues(resolution: WildcardResolution): number[] {
    const { cumulative, size } = resolution;
    const indexes: number[] = [];
    for (let index = 0; index < size; index += 1) {
      const weight =
        cumulative === null
          ? 1
          : (cumulative[index] ?? 0) - (index === 0 ? 0 : (cumulative[index - 1] ?? 0));
      if (weight > 0) indexes.push(index);
    }
    return indexes;
  }

  /** Every expansion of one value of a wildcard. */
  *#value(
    resolution: WildcardResolution,
    index: number,
    scope: Scope,
    open: Open,
    name: string,
  ): Generator<Piece> {
    checkWildcardEntry(open.wildcards, resolution.key, this.#settings.maxDepth);
    const { collection, item } = locateValue(resolution, index);
    const leaf: TraceLeaf = {
      choice: {
        kind: 'wildcard',
        name,
        collection: collection.name,
        index: item,
        value: collection.values[item] ?? '',
        file: collection.file.key,
      },
      files: resolution.files,
    };
    const inner = { ...open, wildcards: [...open.wildcards, resolution.key] };
    for (const piece of this.#pieces(valueTemplate(collection, item).root, scope, inner)) {
      yield { text: piece.text, trace: pair(leaf, piece.trace) };
    }
  }

  /** One value of an endless node, drawn with the shared generator and cycle counters. */
  #sampleOnce(node: VariantNode | WildcardNode, scope: Scope, open: Open): Piece {
    const sampler = node.sampler === 'cyclical' ? 'cyclical' : 'random';
    const evaluator = new PromptEvaluator(this.#snapshot, this.#settings, {
      prng: this.#prng,
      cycles: this.#cycles,
      sampler,
      openWildcards: open.wildcards,
      openVariables: open.variables,
    });
    const text = evaluator.run(node, scope);
    const files = [...evaluator.files].map(([key, sha256]) => ({ key, sha256 }));
    let trace: TraceTree = files.length > 0 ? { choice: null, files } : null;
    for (const choice of evaluator.choices) trace = pair(trace, { choice, files: [] });
    return { text, trace };
  }

  #missing(
    name: string,
    raw: string,
    origin: { source: string; position: number },
    what: 'variable' | 'wildcard',
  ): Piece {
    if (this.#settings.missing === 'error') {
      throw what === 'variable'
        ? variableNotFound(name, origin.source, origin.position)
        : wildcardNotFound(name, origin.source, origin.position);
    }
    const choice: ExpansionChoice = {
      kind: 'missing',
      name,
      source: origin.source,
      position: origin.position,
    };
    return { text: raw, trace: { choice, files: [] } };
  }

  #step(): void {
    this.#steps += 1;
    if (this.#steps > this.#settings.maxSteps) throw stepsError(this.#settings.maxSteps);
  }
}

/** The choices and files of a trace tree, in order. */
export function flattenTrace(tree: TraceTree): {
  choices: ExpansionChoice[];
  files: Record<string, string>;
} {
  const choices: ExpansionChoice[] = [];
  const files: Record<string, string> = {};
  const pending: TraceTree[] = [tree];
  while (pending.length > 0) {
    const node = pending.pop() ?? null;
    if (node === null) continue;
    if (node instanceof TracePair) {
      pending.push(node.right, node.left);
      continue;
    }
    if (node.choice !== null) choices.push(node.choice);
    for (const file of node.files) files[file.key] = file.sha256;
  }
  return { choices, files };
}

function pair(left: TraceTree, right: TraceTree): TraceTree {
  if (left === null) return right;
  if (right === null) return left;
  return new TracePair(left, right);
}

/** The node when it samples randomly or cyclically (it never runs out), else null. */
function endlessNode(node: TemplateNode): VariantNode | WildcardNode | null {
  if (node.type !== 'variant' && node.type !== 'wildcard') return null;
  return node.sampler === 'random' || node.sampler === 'cyclical' ? node : null;
}

function parameterScope(node: WildcardNode, scope: Scope): Scope {
  if (node.parameters.length === 0) return scope;
  const inner = new Scope(scope);
  for (const parameter of node.parameters) {
    inner.set(parameter.name, { node: parameter.value, text: null });
  }
  return inner;
}
