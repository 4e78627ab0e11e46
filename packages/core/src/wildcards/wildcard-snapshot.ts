/**
 * One loaded state of a wildcard library: every collection by name, and the name lookup that
 * expansion uses. A snapshot never changes; a reload builds a new one and swaps it in whole, so an
 * expansion that is running never sees half a reload.
 *
 * How a name written in a template finds its values, first rule that matches wins:
 *
 * 1. a glob (`*`, `?`, `[...]`) matches every collection whose full name it matches;
 *    other names match the collection of exactly that name;
 * 2. the same, ignoring case, so the `__SUBJECT__` of flat upper-case libraries finds
 *    `subject.txt`;
 * 3. any collection whose name ends in `/<name>` (dynamicprompts 0.24's fallback), so `__cats__`
 *    finds `animals/cats`;
 * 4. the same, ignoring case.
 *
 * Several matches are joined in name order into one list of values.
 */
import { parseTemplate } from './template-parser.js';
import type { ParsedTemplate } from './template-ast.js';
import { globToRegExp, isGlob } from './glob.js';
import type { WildcardFormat } from './wildcard-sources.js';

/** A file a library read. */
export interface WildcardFileInfo {
  /** `<root name>/<path in the root>`: the file's name in traces and messages. */
  readonly key: string;
  /** The name of the root it is in. */
  readonly root: string;
  /** Its path relative to the root, with `/` separators. */
  readonly relativePath: string;
  readonly absolutePath: string;
  readonly format: WildcardFormat;
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  readonly bytes: number;
  readonly mtimeMs: number;
}

/** One named list of values, from one file. */
export interface WildcardCollection {
  /** The full wildcard name: `animals/cats`. */
  readonly name: string;
  readonly values: readonly string[];
  /** Cumulative weights, or null when every value weighs 1. */
  readonly cumulative: Float64Array | null;
  /** Each value's line in a text file; null for YAML and JSON. */
  readonly lines: readonly number[] | null;
  readonly file: WildcardFileInfo;
  /** Values parsed so far; each is parsed on first use and kept. */
  readonly templates: (ParsedTemplate | undefined)[];
}

/** What a wildcard name found: one or more collections, seen as one list. */
export interface WildcardResolution {
  /** The collection's name, or the pattern when several collections matched. */
  readonly key: string;
  readonly collections: readonly WildcardCollection[];
  /** Where each collection's values start in the joined list. */
  readonly offsets: readonly number[];
  /** How many values in all. */
  readonly size: number;
  /** Cumulative weights over the joined list, or null when uniform. */
  readonly cumulative: Float64Array | null;
  /** Every file the values come from. */
  readonly files: readonly WildcardFileInfo[];
}

/** Resolutions cached per snapshot before the cache is emptied (names built from variables). */
const MAX_CACHED_RESOLUTIONS = 5_000;

/** An immutable set of collections with the lookup rules of the module comment. */
export class WildcardSnapshot {
  /** Every collection by its full name. */
  readonly collections: ReadonlyMap<string, WildcardCollection>;
  /** Every collection name, sorted. */
  readonly names: readonly string[];
  /** Every file read, sorted by key. */
  readonly files: readonly WildcardFileInfo[];
  readonly #lowerNames: Map<string, string[]>;
  readonly #resolved = new Map<string, WildcardResolution | null>();

  constructor(collections: ReadonlyMap<string, WildcardCollection>, files: WildcardFileInfo[]) {
    this.collections = collections;
    this.names = [...collections.keys()].sort();
    this.files = [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.#lowerNames = new Map();
    for (const name of this.names) {
      const lower = name.toLowerCase();
      const same = this.#lowerNames.get(lower);
      if (same === undefined) this.#lowerNames.set(lower, [name]);
      else same.push(name);
    }
  }

  /** The values a wildcard name stands for, or null when it names nothing. */
  resolve(name: string): WildcardResolution | null {
    const cached = this.#resolved.get(name);
    if (cached !== undefined) return cached;
    const resolution = this.#lookup(normalizeWildcardName(name));
    if (this.#resolved.size >= MAX_CACHED_RESOLUTIONS) this.#resolved.clear();
    this.#resolved.set(name, resolution);
    return resolution;
  }

  #lookup(name: string): WildcardResolution | null {
    if (name === '') return null;
    const names = isGlob(name) ? this.#matchGlob(name) : this.#matchName(name);
    if (names.length === 0) return null;
    const collections = names.flatMap((found) => this.collections.get(found) ?? []);
    const key = collections.length === 1 ? (collections[0]?.name ?? name) : name;
    return joinCollections(key, collections);
  }

  #matchName(name: string): string[] {
    if (this.collections.has(name)) return [name];
    const lower = name.toLowerCase();
    const anyCase = this.#lowerNames.get(lower);
    if (anyCase !== undefined) return anyCase;
    const suffix = `/${name}`;
    const nested = this.names.filter((candidate) => candidate.endsWith(suffix));
    if (nested.length > 0) return nested;
    const lowerSuffix = `/${lower}`;
    return this.names.filter((candidate) => candidate.toLowerCase().endsWith(lowerSuffix));
  }

  #matchGlob(pattern: string): string[] {
    for (const candidate of [pattern, `*/${pattern}`]) {
      for (const ignoreCase of [false, true]) {
        const regex = globToRegExp(candidate, ignoreCase);
        const found = this.names.filter((name) => regex.test(name));
        if (found.length > 0) return found;
      }
    }
    return [];
  }
}

/**
 * A wildcard name in canonical form: `\` turned into `/`, repeated `/` collapsed, and `/` and
 * spaces trimmed from both ends.
 */
export function normalizeWildcardName(name: string): string {
  return name.replace(/[\\/]+/g, '/').replace(/^[\s/]+|[\s/]+$/g, '');
}

/** The parsed template of one value of a collection, parsed on first use. */
export function valueTemplate(collection: WildcardCollection, item: number): ParsedTemplate {
  const cached = collection.templates[item];
  if (cached !== undefined) return cached;
  const line = collection.lines?.[item];
  const source =
    line === undefined
      ? `${collection.file.key} (${collection.name}[${item}])`
      : `${collection.file.key}:${line}`;
  const parsed = parseTemplate(collection.values[item] ?? '', { source });
  collection.templates[item] = parsed;
  return parsed;
}

/** The collection and item index of position `index` in a resolution's joined list. */
export function locateValue(
  resolution: WildcardResolution,
  index: number,
): { collection: WildcardCollection; item: number } {
  const { collections, offsets } = resolution;
  let which = collections.length - 1;
  while (which > 0 && (offsets[which] ?? 0) > index) which -= 1;
  const collection = collections[which] ?? collections[0];
  if (collection === undefined) throw new RangeError('an empty wildcard resolution has no values');
  return { collection, item: index - (offsets[which] ?? 0) };
}

function joinCollections(key: string, collections: WildcardCollection[]): WildcardResolution {
  const offsets: number[] = [];
  let size = 0;
  for (const collection of collections) {
    offsets.push(size);
    size += collection.values.length;
  }
  const files = [...new Set(collections.map((collection) => collection.file))];
  return { key, collections, offsets, size, cumulative: joinWeights(collections, size), files };
}

function joinWeights(collections: WildcardCollection[], size: number): Float64Array | null {
  if (collections.length === 1) return collections[0]?.cumulative ?? null;
  if (collections.every((collection) => collection.cumulative === null)) return null;
  const cumulative = new Float64Array(size);
  let total = 0;
  let index = 0;
  for (const collection of collections) {
    for (let item = 0; item < collection.values.length; item += 1) {
      const own = collection.cumulative;
      total += own === null ? 1 : (own[item] ?? 0) - (item === 0 ? 0 : (own[item - 1] ?? 0));
      cumulative[index] = total;
      index += 1;
    }
  }
  return cumulative;
}
