/**
 * What an expansion records about itself: enough to explain a prompt, and to reproduce it later
 * while proving that the wildcard files are still the ones it was made from.
 */

/** How choices are made. */
export type ExpansionMode = 'random' | 'cyclical' | 'combinatorial';

/** A variant picked some of its options. */
export interface VariantChoice {
  readonly kind: 'variant';
  /** `template`, or the wildcard file (and line) the variant was written in. */
  readonly source: string;
  /** Offset of the variant's `{` in that text. */
  readonly position: number;
  /** Indexes of the picked options, in the order they were written out. */
  readonly picked: readonly number[];
  /** The picked options as written (before their own expansion). */
  readonly values: readonly string[];
}

/** A wildcard picked one of its values. */
export interface WildcardChoice {
  readonly kind: 'wildcard';
  /** The name as the template wrote it (after variables): `colors/*`, `SUBJECT`. */
  readonly name: string;
  /** The collection the value came from: `colors/warm`, `subject`. */
  readonly collection: string;
  /** Index of the value within that collection. */
  readonly index: number;
  /** The value as written in the file (before its own expansion). */
  readonly value: string;
  /** The file's key, as in {@link ExpansionTrace.files}. */
  readonly file: string;
}

/** An immediate variable (`${name=!...}`) was set. */
export interface VariableChoice {
  readonly kind: 'variable';
  readonly name: string;
  readonly value: string;
}

/** A wildcard or variable named nothing and was left in the prompt as written. */
export interface MissingChoice {
  readonly kind: 'missing';
  readonly name: string;
  readonly source: string;
  readonly position: number;
}

/** One decision of an expansion. */
export type ExpansionChoice = VariantChoice | WildcardChoice | VariableChoice | MissingChoice;

/** The record of one expansion. */
export interface ExpansionTrace {
  /** The template as given. */
  readonly template: string;
  readonly mode: ExpansionMode;
  /** The seed the choices were drawn with. */
  readonly seed: number;
  /** The image index (random, cyclical) or the combination's position (combinatorial). */
  readonly index: number;
  /** Every decision, in the order it was made. */
  readonly choices: readonly ExpansionChoice[];
  /**
   * Every wildcard file the expansion read from, by key (`<root name>/<path>`), with the
   * lower-case hex SHA-256 of its content. A wildcard matching several files lists them all,
   * since the set of candidates shaped the choice.
   */
  readonly files: Readonly<Record<string, string>>;
  /** The library's version when the expansion ran. */
  readonly libraryVersion: number;
}

/** A resolved prompt and how it came about. */
export interface ExpansionResult {
  readonly prompt: string;
  readonly trace: ExpansionTrace;
}
