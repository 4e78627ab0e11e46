/**
 * Expands one parsed template into one prompt, drawing every choice from a seeded generator
 * (random) or from per-node counters (cyclical), and recording the choices as it goes.
 *
 * This is the hot path of the engine: the tree is walked once, text is appended to one string,
 * and nothing is allocated per node except the trace entries.
 */
import type { Prng } from './prng.js';
import type {
  SequenceNode,
  TemplateNode,
  VariableNode,
  VariantNode,
  WildcardNode,
  WrapNode,
} from './template-ast.js';
import {
  CycleState,
  Scope,
  checkVariableEntry,
  checkWildcardEntry,
  effectiveSampler,
  type OpenVariable,
  lengthError,
  stepsError,
  variableNotFound,
  wildcardNotFound,
  type ExpansionSettings,
} from './expansion-context.js';
import type { ExpansionChoice } from './expansion-trace.js';
import {
  locateValue,
  valueTemplate,
  type WildcardResolution,
  type WildcardSnapshot,
} from './wildcard-snapshot.js';

/** Ellipses that mark where a wrap puts its inner text (dynamicprompts' wrap_command.py). */
const WRAP_MARKER = /[\u1801\u2026\u22ee-\u22f1\ufe19]+|\.{3,}/u;

/** Where an evaluator's choices come from, and what is already open around it. */
export interface EvaluatorDraw {
  readonly prng: Prng;
  /** Shared cycle counters, or null for counters of this prompt only. */
  readonly cycles: CycleState | null;
  /** Where counters of this prompt only start (the image index). */
  readonly cycleStart?: number;
  readonly sampler: 'random' | 'cyclical';
  /** Wildcards being expanded around the node this evaluator runs on. */
  readonly openWildcards?: readonly string[];
  /** Variables being read around the node this evaluator runs on. */
  readonly openVariables?: readonly OpenVariable[];
}

/** One expansion in progress. Make a new one per prompt. */
export class PromptEvaluator {
  /** The text written so far. */
  out = '';
  /** Every decision so far. */
  readonly choices: ExpansionChoice[] = [];
  /** Every file read so far: key to SHA-256. */
  readonly files = new Map<string, string>();
  readonly #snapshot: WildcardSnapshot;
  readonly #settings: ExpansionSettings;
  readonly #prng: Prng;
  #cycles: CycleState | null;
  #sampler: 'random' | 'cyclical';
  #wildcards: string[];
  #variables: OpenVariable[];
  #steps = 0;
  readonly #cycleStart: number;

  constructor(snapshot: WildcardSnapshot, settings: ExpansionSettings, draw: EvaluatorDraw) {
    this.#snapshot = snapshot;
    this.#settings = settings;
    this.#prng = draw.prng;
    this.#cycles = draw.cycles;
    this.#cycleStart = draw.cycleStart ?? 0;
    this.#sampler = draw.sampler;
    this.#wildcards = [...(draw.openWildcards ?? [])];
    this.#variables = [...(draw.openVariables ?? [])];
  }

  /** Expands `node` in `scope` and returns the text written. */
  run(node: TemplateNode, scope: Scope): string {
    this.#node(node, scope);
    return this.out;
  }

  #node(node: TemplateNode, scope: Scope): void {
    this.#steps += 1;
    if (this.#steps > this.#settings.maxSteps) throw stepsError(this.#settings.maxSteps);
    switch (node.type) {
      case 'text':
        this.#append(node.text);
        return;
      case 'sequence': {
        const inner = node.assignments.length === 0 ? scope : this.#assign(node, scope);
        for (const part of node.parts) this.#node(part, inner);
        return;
      }
      case 'variant':
      case 'wildcard':
        this.#sampled(node, scope);
        return;
      case 'variable':
        this.#variable(node, scope);
        return;
      case 'wrap':
        this.#wrap(node, scope);
        return;
      case 'assignment':
        // Assignments are lifted into their sequence's `assignments` and run there.
        return;
    }
  }

  /** A variant or wildcard, under its own sampler when it names one (`{@...}`, `__~...__`). */
  #sampled(node: VariantNode | WildcardNode, scope: Scope): void {
    const saved = this.#sampler;
    this.#sampler = effectiveSampler(saved, node.sampler);
    if (node.type === 'variant') this.#variant(node, scope);
    else this.#wildcard(node, scope);
    this.#sampler = saved;
  }

  #append(text: string): void {
    this.out += text;
    if (this.out.length > this.#settings.maxLength) {
      throw lengthError(this.out.length, this.#settings.maxLength);
    }
  }

  /** Expands `node` on the side and returns its text, leaving the output as it was. */
  #capture(node: TemplateNode, scope: Scope): string {
    const saved = this.out;
    this.out = '';
    this.#node(node, scope);
    const text = this.out;
    this.out = saved;
    return text;
  }

  #assign(node: SequenceNode, scope: Scope): Scope {
    const inner = new Scope(scope);
    for (const assignment of node.assignments) {
      if (assignment.keepExisting && inner.lookup(assignment.name) !== undefined) continue;
      if (!assignment.immediate) {
        inner.set(assignment.name, { node: assignment.value, text: null });
        continue;
      }
      const value = this.#capture(assignment.value, inner);
      inner.set(assignment.name, { node: null, text: value });
      this.choices.push({ kind: 'variable', name: assignment.name, value });
    }
    return inner;
  }

  #variable(node: VariableNode, scope: Scope): void {
    const { name } = node;
    const binding = scope.lookup(name);
    if (binding === undefined) {
      if (node.fallback !== null) this.#node(node.fallback, scope);
      else this.#missing(name, node.raw, node, 'variable');
      return;
    }
    if (binding.node === null) {
      this.#append(binding.text);
      return;
    }
    checkVariableEntry(this.#variables, name, binding);
    this.#variables.push({ name, binding });
    this.#node(binding.node, scope);
    this.#variables.pop();
  }

  #missing(
    name: string,
    raw: string,
    origin: { source: string; position: number },
    what: 'variable' | 'wildcard',
  ): void {
    if (this.#settings.missing === 'error') {
      throw what === 'variable'
        ? variableNotFound(name, origin.source, origin.position)
        : wildcardNotFound(name, origin.source, origin.position);
    }
    this.choices.push({ kind: 'missing', name, source: origin.source, position: origin.position });
    this.#append(raw);
  }

  #wrap(node: WrapNode, scope: Scope): void {
    const wrapper = this.#capture(node.wrapper, scope);
    const inner = this.#capture(node.inner, scope);
    const marker = WRAP_MARKER.exec(wrapper);
    if (marker === null) {
      this.#append(wrapper + inner);
      return;
    }
    const end = marker.index + marker[0].length;
    this.#append(wrapper.slice(0, marker.index) + inner + wrapper.slice(end));
  }

  #variant(node: VariantNode, scope: Scope): void {
    if (node.wildcardOnly !== null) {
      this.#wildcardPicks(node.wildcardOnly, node, scope);
      return;
    }
    const count = this.#count(node, node.options.length);
    if (count === 1) {
      const index = this.#pickOne(node, node.cumulative, node.options.length);
      const option = node.options[index];
      if (option === undefined) return;
      this.#recordVariant(node, [index]);
      this.#node(option.body, scope);
      return;
    }
    const picked = this.#pickMany(node, node.cumulative, node.options.length, count);
    this.#recordVariant(node, picked);
    this.#joined(picked.length, node.separator, (position) => {
      const option = node.options[picked[position] ?? -1];
      if (option !== undefined) this.#node(option.body, scope);
    });
  }

  #recordVariant(node: VariantNode, picked: number[]): void {
    const values = picked.map((index) => node.options[index]?.raw ?? '');
    this.choices.push({
      kind: 'variant',
      source: node.source,
      position: node.position,
      picked,
      values,
    });
  }

  /** Writes `count` parts with `separator` between the ones that are not empty. */
  #joined(count: number, separator: string, write: (position: number) => void): void {
    let wrote = false;
    for (let position = 0; position < count; position += 1) {
      const mark = this.out.length;
      if (wrote) this.#append(separator);
      const start = this.out.length;
      write(position);
      if (this.out.length > start) wrote = true;
      else if (wrote) this.out = this.out.slice(0, mark);
    }
  }

  #wildcard(node: WildcardNode, scope: Scope): void {
    const name = node.staticPath ?? this.#capture(node.path, scope);
    const resolution = this.#resolve(name, node);
    if (resolution === null) return;
    const index = this.#pickOne(node, resolution.cumulative, resolution.size);
    if (index < 0) return;
    this.#expandValue(resolution, index, this.#parameterScope(node, scope), name);
  }

  /** `{2$$__name__}`: distinct values of one wildcard. */
  #wildcardPicks(wildcard: WildcardNode, variant: VariantNode, scope: Scope): void {
    const saved = this.#sampler;
    this.#sampler = effectiveSampler(saved, wildcard.sampler);
    const name = wildcard.staticPath ?? this.#capture(wildcard.path, scope);
    const resolution = this.#resolve(name, wildcard);
    if (resolution !== null) {
      const count = this.#count(variant, resolution.size);
      const picked = this.#pickMany(variant, resolution.cumulative, resolution.size, count);
      const inner = this.#parameterScope(wildcard, scope);
      this.#joined(picked.length, variant.separator, (position) => {
        this.#expandValue(resolution, picked[position] ?? 0, inner, name);
      });
    }
    this.#sampler = saved;
  }

  /** The values a name stands for; null after handling a name that finds nothing. */
  #resolve(name: string, node: WildcardNode): WildcardResolution | null {
    const resolution = this.#snapshot.resolve(name);
    if (resolution !== null && resolution.size > 0) return resolution;
    this.#missing(name, node.staticPath === null ? `__${name}__` : node.raw, node, 'wildcard');
    return null;
  }

  #parameterScope(node: WildcardNode, scope: Scope): Scope {
    if (node.parameters.length === 0) return scope;
    const inner = new Scope(scope);
    for (const parameter of node.parameters) {
      inner.set(parameter.name, { node: parameter.value, text: null });
    }
    return inner;
  }

  #expandValue(resolution: WildcardResolution, index: number, scope: Scope, name: string): void {
    checkWildcardEntry(this.#wildcards, resolution.key, this.#settings.maxDepth);
    for (const file of resolution.files) this.files.set(file.key, file.sha256);
    const { collection, item } = locateValue(resolution, index);
    this.choices.push({
      kind: 'wildcard',
      name,
      collection: collection.name,
      index: item,
      value: collection.values[item] ?? '',
      file: collection.file.key,
    });
    this.#wildcards.push(resolution.key);
    this.#node(valueTemplate(collection, item).root, scope);
    this.#wildcards.pop();
  }

  /** How many options to pick: the variant's range, clamped to what there is. */
  #count(node: VariantNode, available: number): number {
    const high = Math.min(node.max, available);
    const low = Math.min(node.min, high);
    if (low === high) return low;
    if (this.#sampler === 'cyclical')
      return low + (this.#cyclesState().peek(node) % (high - low + 1));
    return this.#prng.between(low, high);
  }

  /** One index among `size`, by weight; -1 when every weight is 0. */
  #pickOne(node: object, cumulative: Float64Array | null, size: number): number {
    if (this.#sampler === 'cyclical')
      return this.#cyclicalPicks(node, cumulative, size, 1)[0] ?? -1;
    if (cumulative === null) return this.#prng.below(size);
    const total = cumulative[size - 1] ?? 0;
    if (!(total > 0)) return -1;
    // The first index whose running total passes the draw has a weight above 0.
    const target = this.#prng.nextFloat() * total;
    let index = 0;
    while (index < size - 1 && (cumulative[index] ?? 0) <= target) index += 1;
    return index;
  }

  /** `count` distinct indexes among `size`, by weight, in the order drawn. */
  #pickMany(node: object, cumulative: Float64Array | null, size: number, count: number): number[] {
    if (this.#sampler === 'cyclical') return this.#cyclicalPicks(node, cumulative, size, count);
    if (cumulative === null) return this.#uniformPicks(size, Math.min(count, size));
    const weights = Float64Array.from({ length: size }, (_, index) => weightAt(cumulative, index));
    let total = cumulative[size - 1] ?? 0;
    const picked: number[] = [];
    while (picked.length < count && total > 0) {
      let target = this.#prng.nextFloat() * total;
      let chosen = -1;
      for (let index = 0; index < size; index += 1) {
        const weight = weights[index] ?? 0;
        if (weight <= 0) continue;
        chosen = index;
        if (target < weight) break;
        target -= weight;
      }
      // Rounding can leave a sliver of total after the last positive weight is taken.
      if (chosen < 0) break;
      picked.push(chosen);
      total -= weights[chosen] ?? 0;
      weights[chosen] = 0;
    }
    return picked;
  }

  #uniformPicks(size: number, count: number): number[] {
    if (count * 2 <= size) {
      // Few picks among many: redraw the rare repeat instead of shuffling the whole list.
      const picked: number[] = [];
      while (picked.length < count) {
        const index = this.#prng.below(size);
        if (!picked.includes(index)) picked.push(index);
      }
      return picked;
    }
    const order = Array.from({ length: size }, (_, index) => index);
    for (let position = 0; position < count; position += 1) {
      const swap = position + this.#prng.below(size - position);
      const held = order[position] ?? 0;
      order[position] = order[swap] ?? 0;
      order[swap] = held;
    }
    return order.slice(0, count);
  }

  /**
   * The next `count` options in turn. Options of weight 0 are skipped; otherwise weights do not
   * matter to the cyclical sampler, as in dynamicprompts.
   */
  #cyclicalPicks(
    node: object,
    cumulative: Float64Array | null,
    size: number,
    count: number,
  ): number[] {
    const start = this.#cyclesState().next(node) * count;
    const eligible =
      cumulative === null
        ? null
        : Array.from({ length: size }, (_, index) => index).filter(
            (index) => weightAt(cumulative, index) > 0,
          );
    const available = eligible === null ? size : eligible.length;
    const picked: number[] = [];
    for (let offset = 0; offset < Math.min(count, available); offset += 1) {
      const position = (start + offset) % available;
      picked.push(eligible === null ? position : (eligible[position] ?? 0));
    }
    return picked;
  }

  #cyclesState(): CycleState {
    // Without shared state, a cyclical node starts at the image index: image i takes option i.
    this.#cycles ??= new CycleState(this.#cycleStart);
    return this.#cycles;
  }
}

/** The weight of one option from cumulative weights. */
function weightAt(cumulative: Float64Array, index: number): number {
  return (cumulative[index] ?? 0) - (index === 0 ? 0 : (cumulative[index - 1] ?? 0));
}
