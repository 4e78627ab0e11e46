/**
 * The parsed form of a prompt template. Templates are parsed once and the tree is reused for every
 * expansion, so nodes are read-only and carry whatever the expander would otherwise recompute
 * (cumulative weights, whether a wildcard path is fixed text).
 *
 * ```
 *   "a {2$$red|green|__colors__} ${x=!__animal__} cat"
 *
 *   sequence ── assignments: [assignment x (immediate) ── wildcard "animal"]
 *            └─ parts: [text "a ", variant (2..2, ",") ── options: text "red"
 *                                                                  text "green"
 *                                                                  wildcard "colors"
 *                       text " ", text " cat"]      (adjacent texts are merged)
 * ```
 */

/** How one node samples, overriding the expansion's mode for itself and what it contains. */
export type SamplerOverride = 'random' | 'cyclical' | 'combinatorial';

/** Where a node came from, for traces and error messages. */
export interface NodeOrigin {
  /** `template`, or the key of the wildcard file the text was read from. */
  readonly source: string;
  /** Offset of the node's first character in its text. */
  readonly position: number;
}

/** Plain text, copied to the prompt. */
export interface TextNode {
  readonly type: 'text';
  readonly text: string;
}

/**
 * Several nodes one after the other. Variable assignments are lifted out of `parts` and run
 * first, in the order written, as dynamicprompts does: a variable set anywhere in a sequence is
 * visible in all of it.
 */
export interface SequenceNode {
  readonly type: 'sequence';
  readonly parts: readonly TemplateNode[];
  readonly assignments: readonly AssignmentNode[];
}

/** One option of a variant. */
export interface VariantOption {
  /** Relative weight, 1 when none was written; 0 means never picked. */
  readonly weight: number;
  readonly body: TemplateNode;
  /** The option as written (without its weight), for traces. */
  readonly raw: string;
}

/** `{a|b|c}`, `{0.5::a|b}`, `{2$$a|b|c}`, `{1-3$$ and $$a|b|c}`. */
export interface VariantNode extends NodeOrigin {
  readonly type: 'variant';
  readonly options: readonly VariantOption[];
  /** Cumulative weights, or null when every weight is 1 (then picks are uniform). */
  readonly cumulative: Float64Array | null;
  /** Fewest options to pick. */
  readonly min: number;
  /** Most options to pick; `Infinity` for an open upper bound. */
  readonly max: number;
  /** Text between picked options. */
  readonly separator: string;
  readonly sampler: SamplerOverride | null;
  /**
   * Set when the only option is a lone wildcard (`{2$$__flavours__}`): the picks are then
   * distinct values of that wildcard.
   */
  readonly wildcardOnly: WildcardNode | null;
}

/** A parameter of a parameterised wildcard: `__season_clothes(season=winter)__`. */
export interface WildcardParameter {
  readonly name: string;
  readonly value: TemplateNode;
}

/** `__name__`, `__animals/cats__`, `__colors/*__`, `__@name__`, `__${kind}/name__`. */
export interface WildcardNode extends NodeOrigin {
  readonly type: 'wildcard';
  /** The name as fixed text, or null when it contains variables or variants. */
  readonly staticPath: string | null;
  /** The name to expand when it is not fixed text. */
  readonly path: TemplateNode;
  readonly sampler: SamplerOverride | null;
  readonly parameters: readonly WildcardParameter[];
  /** The token as written, `__` included: what `missing: 'keep'` leaves in the prompt. */
  readonly raw: string;
}

/** `${name}` or `${name:default}`. */
export interface VariableNode extends NodeOrigin {
  readonly type: 'variable';
  readonly name: string;
  readonly fallback: TemplateNode | null;
  readonly raw: string;
}

/** `${name=value}`, `${name=!value}`, `${name?=value}`. */
export interface AssignmentNode extends NodeOrigin {
  readonly type: 'assignment';
  readonly name: string;
  readonly value: TemplateNode;
  /** `!`: expanded once, where it is set; otherwise expanded afresh at every use. */
  readonly immediate: boolean;
  /** `?=`: leaves a value that is already set alone. */
  readonly keepExisting: boolean;
}

/** `%{prefix ... suffix$$inner}`: the inner text put where the ellipsis is. */
export interface WrapNode extends NodeOrigin {
  readonly type: 'wrap';
  readonly wrapper: TemplateNode;
  readonly inner: TemplateNode;
}

/** Any node of a parsed template. */
export type TemplateNode =
  TextNode | SequenceNode | VariantNode | WildcardNode | VariableNode | AssignmentNode | WrapNode;

/** A parsed template: the tree plus what the expander wants to know about it up front. */
export interface ParsedTemplate {
  readonly root: TemplateNode;
  /** The text that was parsed. */
  readonly text: string;
  readonly source: string;
  /** Whether any node samples cyclically (`{@...}`, `__@...__`). */
  readonly usesCycles: boolean;
}

/** The empty text node, shared. */
export const EMPTY_TEXT: TextNode = Object.freeze({ type: 'text', text: '' });
