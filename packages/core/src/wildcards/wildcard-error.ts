/**
 * The one error class of the wildcard engine. Its `code` says what kind of problem it is; its
 * `details` say where (the source text and position, the wildcard name, the cycle).
 */
import { ForgeToolError, type ErrorCode } from '../errors.js';

/** The subset of error codes that a {@link WildcardError} can carry. */
export type WildcardErrorCode = Extract<ErrorCode, `FT_ERR_WILDCARD_${string}`>;

/** Where and why a wildcard operation failed. Every field is optional. */
export interface WildcardErrorDetails {
  /**
   * What text the problem is in: `template` for the prompt being expanded, or the wildcard file a
   * value was read from (`user/animals.txt`).
   */
  source?: string;
  /** Offset of the problem in that text, in UTF-16 code units from 0. */
  position?: number;
  /** Line of the problem in that text, from 1. */
  line?: number;
  /** Column of the problem in that line, from 1. */
  column?: number;
  /** The wildcard, variable or category name concerned. */
  name?: string;
  /** The loop of wildcard or variable names, first name repeated at the end. */
  cycle?: readonly string[];
  /** The limit that was exceeded. */
  limit?: number;
  /** The file concerned, for input and output errors. */
  file?: string;
  /** The lower-level error. */
  cause?: unknown;
}

/** A template, a wildcard library or a wildcard operation broke a rule. */
export class WildcardError extends ForgeToolError {
  /** Where and why; see {@link WildcardErrorDetails}. */
  readonly details: Readonly<Omit<WildcardErrorDetails, 'cause'>>;

  constructor(code: WildcardErrorCode, message: string, details: WildcardErrorDetails = {}) {
    super(code, message, { cause: details.cause });
    const rest: WildcardErrorDetails = { ...details };
    delete rest.cause;
    this.details = rest;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), details: this.details };
  }
}

/** Line and column (both from 1) of an offset within a text. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(position, text.length);
  for (let index = 0; index < end; index += 1) {
    if (text.charCodeAt(index) === 10) {
      line += 1;
      lineStart = index + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * A syntax error at `position` of `text`, with the line and column in the message. `firstLine` is
 * the line of the source on which `text` starts (a value read from line 12 of a file starts at 12).
 */
export function syntaxError(
  text: string,
  origin: { source: string; firstLine?: number },
  position: number,
  problem: string,
): WildcardError {
  const relative = lineAndColumn(text, position);
  const line = relative.line + (origin.firstLine ?? 1) - 1;
  const { source } = origin;
  return new WildcardError(
    'FT_ERR_WILDCARD_SYNTAX',
    `${problem} (in ${source} at line ${line}, column ${relative.column})`,
    { source, position, line, column: relative.column },
  );
}
