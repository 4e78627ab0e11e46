/**
 * The rules for category names and items written through the manager. Names become file paths,
 * so they are checked before any file is touched: no traversal, no absolute paths, no characters
 * that some file systems refuse or that the template syntax would misread.
 */
import { parseTemplate } from './template-parser.js';
import { WildcardError } from './wildcard-error.js';

/** The most `/`-separated levels in a category name. */
export const MAX_CATEGORY_LEVELS = 8;
/** The longest level of a category name, in characters. */
export const MAX_CATEGORY_LEVEL_CHARS = 64;
/** The longest item, in characters. */
export const MAX_ITEM_CHARS = 2_000;

/** Letters, digits, `_`, `-`, and inner spaces or dots; starts and ends with a letter or digit. */
const LEVEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}_ .-]*[\p{L}\p{N}_-])?$/u;
/** Names Windows reserves for devices, whatever the extension. */
const RESERVED = /^(?:con|prn|aux|nul|com\d|lpt\d)(?:\..*)?$/i;

/**
 * Checks the name of a category to create: levels separated by `/`, each of letters, digits,
 * `_`, `-`, and inner spaces or dots.
 *
 * @returns the name with surrounding spaces trimmed.
 * @throws {@link WildcardError} `FT_ERR_WILDCARD_NAME_INVALID`, saying which rule it breaks.
 */
export function checkNewCategoryName(name: unknown): string {
  const trimmed = checkExistingCategoryName(name);
  const levels = trimmed.split('/');
  if (levels.length > MAX_CATEGORY_LEVELS) {
    throw invalidName(trimmed, `it has more than ${MAX_CATEGORY_LEVELS} levels`);
  }
  for (const level of levels) {
    if (level.length > MAX_CATEGORY_LEVEL_CHARS) {
      throw invalidName(
        trimmed,
        `'${level}' is longer than ${MAX_CATEGORY_LEVEL_CHARS} characters`,
      );
    }
    if (!LEVEL.test(level) || level.includes('__')) {
      throw invalidName(
        trimmed,
        `'${level}' may only use letters, digits, '_', '-', and spaces or dots inside, ` +
          "without '__'",
      );
    }
    if (RESERVED.test(level)) throw invalidName(trimmed, `'${level}' is a reserved device name`);
  }
  return trimmed;
}

/**
 * Checks a name given to read, change or delete a category: a relative path without `..`,
 * backslashes or control characters. Whether it exists is for the caller to find out.
 *
 * @throws {@link WildcardError} `FT_ERR_WILDCARD_NAME_INVALID`.
 */
export function checkExistingCategoryName(name: unknown): string {
  if (typeof name !== 'string') throw invalidName(String(name), 'a category name is text');
  const trimmed = name.trim();
  if (trimmed.length === 0) throw invalidName(trimmed, 'it is empty');
  if (trimmed.length > MAX_CATEGORY_LEVELS * (MAX_CATEGORY_LEVEL_CHARS + 1)) {
    throw invalidName(trimmed.slice(0, 40), 'it is too long');
  }
  // Control characters have no place in a file name.
  // eslint-disable-next-line no-control-regex -- the pattern matches exactly those characters
  if (/[\u0000-\u001f\u007f\\]/.test(trimmed)) {
    throw invalidName(trimmed, 'it contains a backslash or a control character');
  }
  if (
    trimmed.startsWith('/') ||
    trimmed.split('/').some((level) => level === '' || level === '.' || level === '..')
  ) {
    throw invalidName(trimmed, "levels are separated by single '/' and may not be '.' or '..'");
  }
  return trimmed;
}

/**
 * Checks an item to add: one line of template text that parses.
 *
 * @returns the item with surrounding spaces trimmed.
 * @throws {@link WildcardError} `FT_ERR_WILDCARD_NAME_INVALID` for an empty, multi-line, too long
 *   or comment-like item; `FT_ERR_WILDCARD_SYNTAX` when it does not parse.
 */
export function checkItem(item: unknown): string {
  if (typeof item !== 'string') throw invalidItem('an item is text');
  const trimmed = item.trim();
  if (trimmed.length === 0) throw invalidItem('it is empty');
  if (trimmed.length > MAX_ITEM_CHARS) {
    throw invalidItem(`it is longer than ${MAX_ITEM_CHARS} characters`);
  }
  if (/[\r\n]/.test(trimmed)) throw invalidItem('an item is one line (each line is one option)');
  if (trimmed.startsWith('#')) {
    throw invalidItem("a line starting with '#' is a comment; write '\\#' for a literal '#'");
  }
  parseTemplate(trimmed, { source: 'item' });
  return trimmed;
}

function invalidName(name: string, reason: string): WildcardError {
  return new WildcardError(
    'FT_ERR_WILDCARD_NAME_INVALID',
    `the category name '${name}' is not allowed: ${reason}`,
    { name },
  );
}

function invalidItem(reason: string): WildcardError {
  return new WildcardError('FT_ERR_WILDCARD_NAME_INVALID', `the item is not allowed: ${reason}`);
}
