/**
 * Reading wildcard files: the text of one file to the named value lists it defines.
 *
 * - `.txt`: one value per line, named after the file's path without the extension. Lines are
 *   trimmed; blank lines and lines starting with `#` are skipped (dynamicprompts'
 *   `is_empty_line`). Text files have no weights.
 * - `.yaml`, `.yml`, `.json`: a tree of mappings whose key path, taken from the file's folder,
 *   names each list (the file name is not part of the name, as in dynamicprompts'
 *   `wildcards/tree/build.py`). A bare list at the top is named after the file instead. Items
 *   may carry a weight as a `2::red` prefix or as `{text: red, weight: 2}` (`content` also works).
 *   A key whose value is a single string is a list of one; other values are skipped and reported.
 */
import { parseDocument } from 'yaml';

/** The file formats a wildcard library reads. */
export type WildcardFormat = 'txt' | 'yaml' | 'json';

/** One named list of values defined by a file. */
export interface WildcardEntry {
  /** The wildcard name, relative to the root: `animals/cats`. */
  readonly name: string;
  readonly values: readonly string[];
  /** One weight per value, or null when every weight is 1. */
  readonly weights: readonly number[] | null;
  /** The line of each value in a text file; null for structured files. */
  readonly lines: readonly number[] | null;
}

/** What one file defines, and what in it had to be skipped. */
export interface ParsedWildcardFile {
  readonly entries: readonly WildcardEntry[];
  /** Human-readable reasons for skipped parts. */
  readonly problems: readonly string[];
}

/** The format of a file by its extension (any case), or null when it is not a wildcard file. */
export function wildcardFormat(fileName: string): WildcardFormat | null {
  const extension = /\.(txt|ya?ml|json)$/i.exec(fileName)?.[1]?.toLowerCase();
  if (extension === undefined) return null;
  if (extension === 'txt') return 'txt';
  return extension === 'json' ? 'json' : 'yaml';
}

/**
 * Parses one wildcard file.
 *
 * @param text - The file's text (a leading byte-order mark is ignored).
 * @param format - Its format.
 * @param relativePath - Its path relative to the root, with `/` separators.
 */
export function parseWildcardFile(
  text: string,
  format: WildcardFormat,
  relativePath: string,
): ParsedWildcardFile {
  const content = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const withoutExtension = relativePath.replace(/\.[^./]*$/, '');
  if (format === 'txt')
    return { entries: [parseTextFile(content, withoutExtension)], problems: [] };
  const folder = withoutExtension.includes('/')
    ? withoutExtension.slice(0, withoutExtension.lastIndexOf('/'))
    : '';
  const reader = new StructuredReader();
  let data: unknown;
  try {
    data = format === 'json' ? JSON.parse(content) : readYaml(content, reader.problems);
  } catch (error) {
    return { entries: [], problems: [`cannot be parsed as ${format}: ${describe(error)}`] };
  }
  if (Array.isArray(data)) reader.list(withoutExtension, data);
  else if (isMapping(data)) reader.mapping(folder, data);
  else if (data != null) reader.problems.push('holds neither a mapping nor a list at its top');
  return { entries: reader.entries, problems: reader.problems };
}

function parseTextFile(content: string, name: string): WildcardEntry {
  const values: string[] = [];
  const lines: number[] = [];
  content.split(/\r\n|\n|\r/).forEach((line, index) => {
    const value = line.trim();
    if (value.length === 0 || value.startsWith('#')) return;
    values.push(value);
    lines.push(index + 1);
  });
  return { name, values, weights: null, lines };
}

/** Walks a parsed YAML or JSON tree, collecting lists and the reasons for skipped parts. */
class StructuredReader {
  readonly entries: WildcardEntry[] = [];
  readonly problems: string[] = [];

  mapping(prefix: string, data: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(data)) {
      const name = prefix === '' ? key : `${prefix}/${key}`;
      if (value == null || value === '') continue;
      if (typeof value === 'string') this.list(name, [value]);
      else if (Array.isArray(value)) this.list(name, value);
      else if (isMapping(value)) this.mapping(name, value);
      else this.problems.push(`key '${name}' is skipped: its value is not a list or a mapping`);
    }
  }

  list(name: string, items: readonly unknown[]): void {
    const values: string[] = [];
    const weights: number[] = [];
    items.forEach((item, index) => {
      const read = this.#item(item, `${name}[${index}]`);
      if (read === null) return;
      values.push(read.text);
      weights.push(read.weight);
    });
    if (values.length === 0) return;
    const uniform = weights.every((weight) => weight === 1);
    this.entries.push({ name, values, weights: uniform ? null : weights, lines: null });
  }

  #item(item: unknown, where: string): { text: string; weight: number } | null {
    if (item == null || item === '') return null;
    if (typeof item === 'number' || typeof item === 'boolean') {
      return { text: String(item), weight: 1 };
    }
    if (typeof item === 'string') return this.#prefixedItem(item, where);
    if (isMapping(item)) {
      const text = item['text'] ?? item['content'];
      const weight = item['weight'] === undefined ? 1 : Number(item['weight']);
      if (typeof text === 'string' && text.length > 0) return this.#checked(text, weight, where);
    }
    this.problems.push(`${where} is skipped: items are strings or {text, weight} mappings`);
    return null;
  }

  #prefixedItem(item: string, where: string): { text: string; weight: number } {
    const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*::(.*)$/s.exec(item);
    if (match === null) return { text: item, weight: 1 };
    return this.#checked((match[2] ?? '').trim(), Number(match[1]), where);
  }

  #checked(text: string, weight: number, where: string): { text: string; weight: number } {
    if (Number.isFinite(weight) && weight >= 0) return { text, weight };
    this.problems.push(`${where} has the weight ${weight}; weights are 0 or more, so 1 is used`);
    return { text, weight: 1 };
  }
}

/** Parses YAML, throwing its first error and keeping its warnings as problems. */
function readYaml(content: string, problems: string[]): unknown {
  const document = parseDocument(content, { prettyErrors: false });
  const [error] = document.errors;
  if (error !== undefined) throw error;
  for (const warning of document.warnings) problems.push(`YAML warning: ${describe(warning)}`);
  return document.toJS();
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
